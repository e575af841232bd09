"""Customer records and events into the store: personal data normalised and hashed (clear only
with --keep-pii), the headers of each system's export, rejects by row, orders by system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawler.pseudonyms import Pseudonymizer
from smcat.cli import app
from smcat.errors import SmcatError
from smcat.imports.customers import import_customers
from smcat.imports.events import import_events
from smcat.imports.pii import (
    address_parts,
    name_features,
    normalise_email,
    normalise_name,
    normalise_phone,
    protected_record,
)
from smcat.store import Store
from tests.conftest import FIXTURES

SMALL = FIXTURES / "people" / "small"
SALT = "a-project-salt-of-some-length"


def test_phones_emails_and_names_normalise_before_hashing() -> None:
    written = ("+86 138-0013-8000", "0086 13800138000", "13800138000", "138 0013 8000")
    assert {normalise_phone(p) for p in written} == {"13800138000"}
    assert normalise_phone("") is None and normalise_phone("--") is None
    assert normalise_email("  Zhang.Wei@QQ.com ") == "zhang.wei@qq.com"
    # Traditional and Simplified, with a space or a middle dot, are one name
    assert normalise_name("張 偉") == normalise_name("张伟") == "张伟"
    assert normalise_name("迪丽热巴·迪力木拉提") == "迪丽热巴迪力木拉提"
    # a name written in pinyin has the pinyin of its characters
    assert (
        name_features(normalise_name("ZHANG Wei")) == name_features("张伟") == ("zhangwei", "zhang")
    )
    assert name_features("欧阳娜娜") == ("ouyangnana", "ouyang")
    assert address_parts("浙江省杭州市西湖區文三路1號")[1:] == ("杭州", "西湖区")
    assert address_parts("北京朝阳区建国路8号")[1:] == ("北京", "朝阳区")


def test_a_record_keeps_hashes_and_features_and_clear_values_only_on_request() -> None:
    pseudonyms = Pseudonymizer(SALT)
    row = {"record_id": "m1", "name": "張偉", "phone": "+86 13800138000", "email": "A@B.cn",
           "address": "广东省深圳市南山区科技园1号", "birth_year": "1990-05-01"}  # fmt: skip
    record = protected_record(row, pseudonyms)
    same = protected_record({**row, "name": "张伟", "phone": "13800138000"}, pseudonyms)
    assert record["name_hash"] == same["name_hash"] and record["phone_hash"] == same["phone_hash"]
    assert record["phone_hash"] != Pseudonymizer(SALT + "x").pseudonym("phone:13800138000")
    assert (record["phone_tail"], record["city"], record["district"]) == ("8000", "深圳", "南山区")
    assert record["birth_year"] == "1990" and record["surname"] == "zhang"
    assert not {"name", "phone", "email", "address"} & record.keys()
    kept = protected_record(row, pseudonyms, keep_pii=True)
    assert (kept["name"], kept["phone"], kept["email"]) == ("张伟", "13800138000", "a@b.cn")


def _grep(db: Path, needles: list[str]) -> list[str]:
    """The needles found in the bytes of the database and its -wal file."""
    data = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    return [n for n in needles if n.encode() in data]


def _clear_values(folder: Path) -> list[str]:
    phones = [row["mobile"] for row in map(json.loads, (folder / "app_customers.jsonl").open())
              if row["mobile"]]  # fmt: skip
    emails = [json.loads(line)["email"] for line in (folder / "app_customers.jsonl").open()]
    return [normalise_phone(p) or "" for p in phones] + [normalise_email(e) or "" for e in emails]


def test_the_database_holds_no_phone_or_email_unless_kept(tmp_path: Path) -> None:
    needles = _clear_values(SMALL)
    assert len(needles) >= 10
    db = tmp_path / "hashed.db"
    with Store.open(db) as store:
        report = import_customers(store, SMALL / "app_customers.jsonl", "app", SALT)
        assert report.stored == 6 and not report.rejects
    assert _grep(db, needles) == []
    kept = tmp_path / "kept.db"
    with Store.open(kept) as store:
        import_customers(store, SMALL / "app_customers.jsonl", "app", SALT, keep_pii=True)
    assert _grep(kept, needles) == needles
    with Store.open(kept) as store:  # imported again without --keep-pii: the clear values go
        import_customers(store, SMALL / "app_customers.jsonl", "app", SALT)
        found = store.customer_records()
        clear = [found.columns.index(c) for c in ("name", "phone", "email", "address")]
        assert all(row[i] is None for row in found.rows for i in clear)


def test_each_systems_export_reads_through_its_headers(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        for system, name in (("tmall", "tmall_customers.csv"), ("crm", "crm_customers.xlsx")):
            assert not import_customers(store, SMALL / name, system, SALT).rejects
        records = {row[1]: dict(zip(store.customer_records().columns, row, strict=True))
                   for row in store.customer_records().rows}  # fmt: skip
    tmall = records["T64b7c4608c"]  # 陆芳晓, 008613391037721, 广东省广州市海珠区中山街6号
    assert (tmall["surname"], tmall["phone_tail"], tmall["city"]) == ("lu", "7721", "广州")
    assert tmall["registered_at"] == "2022-04-05T12:21:00+08:00"
    assert records["Cce53687aac"]["birth_year"] is not None


def test_a_mapping_file_names_other_headers(tmp_path: Path) -> None:
    export = tmp_path / "shop.csv"
    export.write_text("buyer,tel,ignored\nb1,13800138000,x\n", encoding="utf-8")
    mapping = tmp_path / "shop.toml"
    mapping.write_text('[columns]\nbuyer = "record_id"\ntel = "phone"\n', encoding="utf-8")
    with Store.open(tmp_path / "p.db") as store:
        report = import_customers(store, export, "shop", SALT, mapping=mapping)
        assert report.stored == 1
        assert store.customer_records().rows[0][1] == "b1"
    with Store.open(tmp_path / "p.db") as store, pytest.raises(SmcatError, match="tel"):
        import_customers(store, export, "shop", SALT)  # unmapped: an unknown column


def test_without_a_salt_the_import_names_the_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["import", "customers", str(SMALL / "tmall_customers.csv"), "--system", "tmall",
         "--db", str(tmp_path / "p.db")],
        env={"SMCAT_PSEUDONYM_SALT": ""},
    )  # fmt: skip
    assert isinstance(result.exception, SmcatError)
    assert "SMCAT_PSEUDONYM_SALT" in str(result.exception)
    assert "\n" not in str(result.exception)


def test_events_read_other_names_of_types_and_reject_by_row(tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        "event_id,time,type,member_id,cookie_id,amount\n"
        "e1,2025-03-01 10:00:00,pv,,c1,\n"
        "e2,2025-03-01 10:05:00,加购,m1,c1,\n"
        "e3,2025-03-01 10:06:00,teleport,m1,c1,\n"
        "e4,2025-03-01 10:07:00,purchase,,,9.9\n",
        encoding="utf-8",
    )
    with Store.open(tmp_path / "p.db") as store:
        report = import_events(store, events, "shop")
        stored = {row[1]: (row[2], row[3]) for row in store.events().rows}
    assert report.stored == 2
    assert [row for row, _ in report.rejects] == [4, 5]
    assert stored == {"e1": ("2025-03-01T10:00:00+08:00", "view"),
                      "e2": ("2025-03-01T10:05:00+08:00", "cart")}  # fmt: skip


def test_the_fixtures_events_import_from_jsonl_and_csv(tmp_path: Path) -> None:
    with Store.open(tmp_path / "p.db") as store:
        app_events = import_events(store, SMALL / "app_events.jsonl", "app")
        shop_events = import_events(store, SMALL / "tmall_events.csv", "tmall")
    assert app_events.stored > 20 and shop_events.stored > 20
    assert not app_events.rejects and not shop_events.rejects


def test_orders_name_their_system(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    orders = str(FIXTURES / "commerce/orders.csv")
    result = CliRunner().invoke(
        app, ["import", "orders", orders, "--system", "tmall", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        systems = store.connection.execute("SELECT DISTINCT system FROM orders").fetchall()
    assert systems == [("tmall",)]
