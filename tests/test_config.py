"""Tests for smcat.config: defaults < smcat.toml < SMCAT_* variables < flags, and config errors."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from smcat.config import ConfigError, Settings, load_settings
from smcat.errors import SmcatError

FIELDS = [f.name for f in dataclasses.fields(Settings)]


def write_toml(folder: Path, text: str, name: str = "smcat.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, flags: dict | None = None, **environ: str) -> str:
    """The message of the ConfigError that loading raises; checks it is one line."""
    with pytest.raises(ConfigError) as error:
        load_settings(flags or {}, environ=environ, cwd=tmp_path)
    message = str(error.value)
    assert message, "empty error message"
    assert "\n" not in message, message
    return message


# -- precedence ----------------------------------------------------------------------------


def test_defaults_when_nothing_is_given(tmp_path: Path) -> None:
    settings = load_settings({}, environ={}, cwd=tmp_path)
    assert settings == Settings()
    assert settings.db == Path("smcat.db")
    assert settings.download_delay == 3.0
    assert settings.keep_raw is True


def test_flags_none_and_no_flags_argument_mean_defaults(tmp_path: Path) -> None:
    assert load_settings(None, environ={}, cwd=tmp_path) == Settings()
    assert load_settings({"db": None, "download_delay": None}, environ={}, cwd=tmp_path) == (
        Settings()
    )


def test_toml_in_cwd_beats_defaults(tmp_path: Path) -> None:
    write_toml(tmp_path, 'db = "brands.db"\ndownload_delay = 7.5\n')
    settings = load_settings({}, environ={}, cwd=tmp_path)
    assert settings.db == Path("brands.db")
    assert isinstance(settings.db, Path)
    assert settings.download_delay == 7.5
    assert settings.concurrent_requests == Settings().concurrent_requests  # untouched


def test_toml_integer_for_a_float_setting_becomes_a_float(tmp_path: Path) -> None:
    write_toml(tmp_path, "download_delay = 2\n")
    settings = load_settings({}, environ={}, cwd=tmp_path)
    assert settings.download_delay == 2.0
    assert isinstance(settings.download_delay, float)


def test_toml_is_read_from_cwd_argument_only(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_toml(tmp_path, 'db = "brands.db"\n')
    assert load_settings({}, environ={}, cwd=elsewhere).db == Path("smcat.db")


def test_smcat_config_names_the_file_instead_of_cwd(tmp_path: Path) -> None:
    write_toml(tmp_path, 'db = "from-cwd.db"\n')
    other = write_toml(tmp_path, 'db = "from-config.db"\ndownload_delay = 9\n', "other.toml")
    settings = load_settings({}, environ={"SMCAT_CONFIG": str(other)}, cwd=tmp_path)
    assert settings.db == Path("from-config.db")
    assert settings.download_delay == 9.0


def test_env_beats_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, 'db = "brands.db"\ndownload_delay = 7.5\n')
    environ = {"SMCAT_DB": "env.db", "SMCAT_DOWNLOAD_DELAY": "2.5"}
    settings = load_settings({}, environ=environ, cwd=tmp_path)
    assert settings.db == Path("env.db")
    assert isinstance(settings.db, Path)
    assert settings.download_delay == 2.5
    assert isinstance(settings.download_delay, float)


def test_env_beats_defaults_without_toml(tmp_path: Path) -> None:
    settings = load_settings({}, environ={"SMCAT_DOWNLOAD_DELAY": "0.25"}, cwd=tmp_path)
    assert settings.download_delay == 0.25
    assert settings.db == Path("smcat.db")


def test_flags_beat_env_and_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, 'db = "brands.db"\ndownload_delay = 7.5\n')
    environ = {"SMCAT_DB": "env.db", "SMCAT_DOWNLOAD_DELAY": "2.5"}
    flags = {"db": Path("flag.db"), "download_delay": 0.5}
    settings = load_settings(flags, environ=environ, cwd=tmp_path)
    assert settings.db == Path("flag.db")
    assert settings.download_delay == 0.5


def test_flag_zero_is_given_not_missing(tmp_path: Path) -> None:
    """0 and False are values; only None means a flag was not given."""
    environ = {"SMCAT_DOWNLOAD_DELAY": "5", "SMCAT_KEEP_RAW": "1"}
    flags = {"download_delay": 0, "keep_raw": False}
    settings = load_settings(flags, environ=environ, cwd=tmp_path)
    assert settings.download_delay == 0.0
    assert settings.keep_raw is False


def test_flag_none_keeps_env_and_toml_values(tmp_path: Path) -> None:
    write_toml(tmp_path, "download_delay = 7.5\n")
    flags = {"db": None, "download_delay": None}
    settings = load_settings(flags, environ={"SMCAT_DB": "env.db"}, cwd=tmp_path)
    assert settings.db == Path("env.db")
    assert settings.download_delay == 7.5


def test_flag_string_path_becomes_path(tmp_path: Path) -> None:
    settings = load_settings({"db": "x/y.db"}, environ={}, cwd=tmp_path)
    assert settings.db == Path("x/y.db")
    assert isinstance(settings.db, Path)


# -- type coercion -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "off", " FALSE "])
def test_env_false_words_turn_keep_raw_off(tmp_path: Path, text: str) -> None:
    settings = load_settings({}, environ={"SMCAT_KEEP_RAW": text}, cwd=tmp_path)
    assert settings.keep_raw is False


@pytest.mark.parametrize("text", ["1", "true", "yes", "on"])
def test_env_true_words_turn_keep_raw_on(tmp_path: Path, text: str) -> None:
    write_toml(tmp_path, "keep_raw = false\n")
    settings = load_settings({}, environ={"SMCAT_KEEP_RAW": text}, cwd=tmp_path)
    assert settings.keep_raw is True


def test_toml_bool_and_int_settings(tmp_path: Path) -> None:
    write_toml(tmp_path, "keep_raw = false\nconcurrent_requests = 4\nretry_times = 0\n")
    settings = load_settings({}, environ={}, cwd=tmp_path)
    assert settings.keep_raw is False
    assert settings.concurrent_requests == 4
    assert settings.retry_times == 0


def test_env_int_and_str_settings(tmp_path: Path) -> None:
    environ = {
        "SMCAT_CONCURRENT_REQUESTS": "8",
        "SMCAT_LOG_LEVEL": "DEBUG",
        "SMCAT_WEIBO_MOBILE_URL": "http://127.0.0.1:8123",
    }
    settings = load_settings({}, environ=environ, cwd=tmp_path)
    assert settings.concurrent_requests == 8
    assert isinstance(settings.concurrent_requests, int)
    assert settings.log_level == "DEBUG"
    assert settings.weibo_mobile_url == "http://127.0.0.1:8123"


def test_every_field_is_read_from_its_env_variable(tmp_path: Path) -> None:
    """SMCAT_<FIELD> is read for every field, as the field's type."""
    expected = {
        "db": Path("e.db"),
        "download_delay": 0.5,
        "concurrent_requests": 5,
        "retry_times": 9,
        "retry_backoff": 0.25,
        "user_agent": "ua-test",
        "weibo_mobile_url": "http://127.0.0.1:1",
        "weibo_url": "http://127.0.0.1:2",
        "weibo_search_url": "http://127.0.0.1:3",
        "weibo_cn_url": "http://127.0.0.1:4",
        "weibo_search_split_at": 40,
        "weibo_cookie": "SUB=test",
        "weibo_cookie_file": "cookie.txt",
        "weibo_visitor": False,
        "douyin_url": "http://127.0.0.1:5",
        "douyin_live_url": "http://127.0.0.1:6",
        "douyin_cookie": "ttwid=test",
        "douyin_signer": "signer:sign",
        "browser": "/opt/chromium/chrome",
        "browser_wait": 4.5,
        "pseudonym_salt": "a-project-secret-salt",
        "log_level": "ERROR",
        "cluster_redis": "redis://:a-password@127.0.0.1:6379/0",
        "cookie_interval": 2.5,
        "cookie_cooloff": 60.0,
        "keep_raw": False,
        "user_dicts": ("brands.txt", "products.txt"),
    }
    assert sorted(expected) == sorted(FIELDS), "a new field needs a case here"
    for name, value in expected.items():
        assert value != getattr(Settings(), name), name
        # a list of paths is written as the shell writes PATH
        text = os.pathsep.join(value) if isinstance(value, tuple) else str(value)
        environ = {f"SMCAT_{name.upper()}": text}
        got = getattr(load_settings({}, environ=environ, cwd=tmp_path), name)
        assert got == value, name
        assert type(got) is type(value), name


# -- errors --------------------------------------------------------------------------------


def test_config_error_is_an_smcat_error() -> None:
    assert issubclass(ConfigError, SmcatError)


def test_unknown_toml_key_names_it_and_lists_valid_keys(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'db = "a.db"\ndownload_dealy = 2\n')
    message = config_error(tmp_path)
    assert "download_dealy" in message
    assert str(path) in message
    for name in FIELDS:
        assert name in message, name


def test_bad_float_in_env_names_variable_and_value(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMCAT_DOWNLOAD_DELAY="abc")
    assert "SMCAT_DOWNLOAD_DELAY" in message
    assert "'abc'" in message
    assert "float" in message


def test_bad_float_in_toml_names_file_and_value(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'download_delay = "abc"\n')
    message = config_error(tmp_path)
    assert str(path) in message
    assert "download_delay" in message
    assert "'abc'" in message
    assert "float" in message


def test_bad_bool_in_env(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMCAT_KEEP_RAW="maybe")
    assert "SMCAT_KEEP_RAW" in message
    assert "'maybe'" in message


def test_bool_is_not_a_number_in_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, "download_delay = true\n")
    assert "download_delay" in config_error(tmp_path)


def test_bad_int_in_env(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMCAT_CONCURRENT_REQUESTS="2.5")
    assert "SMCAT_CONCURRENT_REQUESTS" in message
    assert "int" in message


def test_table_for_a_path_in_toml(tmp_path: Path) -> None:
    write_toml(tmp_path, "[db]\nname = 'x'\n")
    assert "db" in config_error(tmp_path)


def test_invalid_toml_names_file_and_fix(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "db = \n[[[\n")
    message = config_error(tmp_path)
    assert str(path) in message
    assert "fix or remove" in message


def test_toml_error_checked_even_when_env_overrides(tmp_path: Path) -> None:
    """A broken smcat.toml is reported, not silently ignored, even when env sets the key."""
    write_toml(tmp_path, 'db = "a.db"\ndb = "b.db"\n')
    config_error(tmp_path, SMCAT_DB="env.db")


def test_smcat_config_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(tmp_path, SMCAT_CONFIG=str(missing))
    assert "SMCAT_CONFIG" in message
    assert str(missing) in message
    assert "fix the path" in message


def test_smcat_config_missing_file_even_with_toml_in_cwd(tmp_path: Path) -> None:
    write_toml(tmp_path, 'db = "cwd.db"\n')
    config_error(tmp_path, SMCAT_CONFIG=str(tmp_path / "nope.toml"))


def test_unknown_flag_name(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"dbb": "x.db"})
    assert "'dbb'" in message
    for name in FIELDS:
        assert name in message, name


def test_unknown_flag_name_even_when_none(tmp_path: Path) -> None:
    """A misspelt flag is a programming error whether or not it was given a value."""
    config_error(tmp_path, {"downloaddelay": None})


def test_bad_flag_value_names_the_option(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"download_delay": "fast"})
    assert "--download-delay" in message


def test_fractional_float_for_int_setting_is_an_error(tmp_path: Path) -> None:
    write_toml(tmp_path, "concurrent_requests = 2.7\n")
    assert "concurrent_requests" in config_error(tmp_path)


def test_list_for_string_setting_is_an_error(tmp_path: Path) -> None:
    write_toml(tmp_path, 'weibo_mobile_url = ["http://127.0.0.1:1"]\n')
    assert "weibo_mobile_url" in config_error(tmp_path)


def test_the_cookie_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load_settings({}, environ={"SMCAT_WEIBO_COOKIE": "SUB=secret-value"}, cwd=tmp_path)
    assert settings.weibo_cookie == "SUB=secret-value"
    assert "secret-value" not in repr(settings)


# -- values that make no sense, and secrets ------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("concurrent_requests = 0\n", "concurrent_requests = 0 must be 1 or more"),
        ("download_delay = -1.5\n", "download_delay = -1.5 must be 0 or more"),
        ("retry_backoff = nan\n", "retry_backoff = nan must be a finite number"),
        ("download_delay = inf\n", "must be a finite number"),
        ("retry_times = -2\n", "retry_times = -2 must be 0 or more"),
        ('log_level = "LOUD"\n', "log_level = 'LOUD' is not one of DEBUG, INFO, WARNING"),
    ],
)
def test_a_value_that_makes_no_sense_is_refused_in_one_line(tmp_path: Path, toml, words) -> None:
    write_toml(tmp_path, toml)
    assert words in config_error(tmp_path)


def test_the_log_level_is_read_in_any_case(tmp_path: Path) -> None:
    assert load_settings({}, environ={"SMCAT_LOG_LEVEL": "info"}, cwd=tmp_path).log_level == "INFO"


@pytest.mark.parametrize(
    "name", ["weibo_cookie", "douyin_cookie", "pseudonym_salt", "cluster_redis"]
)
def test_a_secret_of_the_wrong_type_is_named_but_never_shown(tmp_path: Path, name: str) -> None:
    write_toml(tmp_path, f"{name} = 1234567890123456\n")  # a number where text is wanted
    message = config_error(tmp_path)
    assert f"{name} = (a secret, not shown)" in message and "1234567890123456" not in message


def test_a_smcat_toml_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "smcat.toml").write_bytes('db = "品牌.db"\n'.encode("gb18030"))
    assert "cannot be read" in config_error(tmp_path)
