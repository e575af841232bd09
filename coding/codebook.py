"""Codebooks: the subcategories posts are coded into, with the rules the machine applies.

A codebook is a YAML file (see coding/codebooks/brand_posts_v1.yaml, whose header documents
the format). `validate_codebook` reports every mistake with its line and column, so that a
researcher editing a copy can fix them all at once; `load_codebook` gives the checked codebook
as frozen dataclasses, with regular expressions compiled and lexicon paths resolved, ready for
the tagger.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from coding.automaton import LONE_SURROGATE
from smcat.coders import machine_name
from smcat.errors import SmcatError

CODEBOOKS = Path(__file__).resolve().parent / "codebooks"
TOP_KEYS = ("codebook", "version", "levels", "subcategories")
OPTIONAL_TOP_KEYS = ("masking",)
# what is masked before cue and hot-word matching (each on unless the codebook says false)
MASKING_KEYS = ("mentions", "emoticons", "repost_chain")
LEVEL_KEYS = ("name_zh", "name_en")
SUBCATEGORY_KEYS = (
    "id", "level", "name_zh", "name_en", "definition", "coded", "rule_only", "rules", "examples",
)  # fmt: skip
REQUIRED_SUBCATEGORY_KEYS = ("id", "level", "name_zh", "name_en", "definition")
RULE_KINDS = ("cues", "regex", "metadata", "hot_words", "topics")
RULE_KEYS = ("id", *RULE_KINDS, "match")
CUE_MATCHES = ("text", "tokens")
MEDIA_TYPES = ("text", "picture", "video", "article", "live")
# post fields a metadata rule may test (named as in the store), and the types their values take
METADATA_FIELDS: dict[str, tuple[type, ...]] = {
    "media_type": (str,),
    "pic_count": (int,),
    "video_seconds": (int, float),
    "is_repost": (bool,),
    "text_length": (int,),
    "topic_count": (int,),
    "mention_count": (int,),
    "created_hour": (int,),
    "created_weekday": (int,),
}
_FIELD_RANGES = {"created_hour": (0, 23), "created_weekday": (0, 6)}  # weekday 0 = Monday
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
_ID = re.compile(r"^([A-Z])(\d{1,2})$")
_LEVEL = re.compile(r"^[A-Z]$")
# the name and version become the coder name auto:NAME@VERSION, so they must not hold : or @
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_NULL = "tag:yaml.org,2002:null"
_TAG_TYPES = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:bool": bool,
    "tag:yaml.org,2002:timestamp": date,
}
_TYPE_NAMES = {
    str: "a string", int: "a whole number", float: "a number", bool: "true or false",
    date: "a date",
}  # fmt: skip
# the fix for the commonest mistakes, by the start of PyYAML's or re's own message
_YAML_FIXES = (
    ("found character '\\t'", "indent with spaces, not tabs"),
    ("mapping values are not allowed", "quote a value that holds ': ', or fix the indentation"),
    ("could not find expected ':'", "add ': ' after the key, or fix the indentation"),
    ("expected ',' or ']'", "close the list with ]"),
    ("expected ',' or '}'", "close the mapping with }"),
    ("found unexpected end of stream", "close the quote or bracket"),
)
_REGEX_FIXES = (
    ("missing ), unterminated subpattern", "close the group with )"),
    ("unbalanced parenthesis", "remove the extra ) or write it as \\)"),
    ("unterminated character set", "close the set with ]"),
    ("nothing to repeat", "write the quantifier as \\* \\+ \\? or put something before it"),
    ("multiple repeat", "remove one of the quantifiers, or escape it"),
    ("bad escape", "remove the backslash, or double it to match a backslash"),
    ("bad character range", "write the range low-high, or put - last in the set"),
)


class CodebookError(SmcatError):
    """A codebook that cannot be used; one line, naming the first problem and the fix."""


@dataclass(frozen=True)
class CodebookProblem:
    """One mistake in a codebook file, where it is (1-based), and how to fix it."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class CueRule:
    """Matches when the text holds one of the cue words: as a substring (`match` "text"), or
    as a whole token of the segmented text (`match` "tokens")."""

    id: str
    cues: tuple[str, ...]
    match: str = "text"


@dataclass(frozen=True)
class RegexRule:
    """Matches where the regular expression does."""

    id: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class MetadataRule:
    """Matches when a field of the post satisfies `field op value` (a tuple for `in`)."""

    id: str
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Lexicon:
    """A word list file, used for posts from `valid_from` to `valid_to` (China days, both
    included; None: no limit on that side)."""

    path: Path
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class HotWordsRule:
    """Matches a token on the hot-search list within `window_days`, or in the lexicon, or in
    one of the period `lexicons` whose dates hold the post's day."""

    id: str
    window_days: int
    lexicon: Path | None
    lexicons: tuple[Lexicon, ...] = ()


@dataclass(frozen=True)
class TopicsRule:
    """Matches at least `min_count` #micro-topics#; `on_hot_list` also notes the hot ones."""

    id: str
    min_count: int
    on_hot_list: bool


Rule = CueRule | RegexRule | MetadataRule | HotWordsRule | TopicsRule


@dataclass(frozen=True)
class Level:
    """A level of the codebook (A 基本信息, ...)."""

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Subcategory:
    """One subcategory: a 0/1 code, unless `coded` is false (a control from the data)."""

    id: str
    level: str
    name_zh: str
    name_en: str
    definition: str
    coded: bool
    rules: tuple[Rule, ...]
    examples: tuple[str, ...]
    rule_only: bool = False
    """Coded by its rules alone, never by a trained model (structural codes whose rules are
    near-perfect: repost, length, media, topics, links)."""


@dataclass(frozen=True)
class Masking:
    """What cue and hot-word rules do not see: @user names, [emoticon] codes, and the repost
    chain (`//@name: ...`, the earlier posters' text). Masked text is blanked with spaces of
    the same length, so evidence offsets still point into the post's own text."""

    mentions: bool = True
    emoticons: bool = True
    repost_chain: bool = True


@dataclass(frozen=True)
class Codebook:
    """A checked codebook and the YAML text it came from (stored with the codes)."""

    name: str
    version: str
    levels: Mapping[str, Level]
    subcategories: tuple[Subcategory, ...]
    yaml_text: str
    source: str
    masking: Masking = Masking()

    @property
    def coder(self) -> str:
        """The coder name of the machine's codes under this codebook version."""
        return machine_name(self.name, self.version)

    def coded(self) -> tuple[Subcategory, ...]:
        """The subcategories that are coded (0/1), in codebook order."""
        return tuple(s for s in self.subcategories if s.coded)


def default_codebook_path() -> Path:
    """The codebook smcat ships: brand_posts, version 1."""
    return CODEBOOKS / "brand_posts_v1.yaml"


def load_codebook(source: Path | str) -> Codebook:
    """A checked codebook from a file (a Path, or a one-line str naming one) or from YAML text
    (a str of several lines); CodebookError naming the first mistake if it has any."""
    if isinstance(source, str) and "\n" in source:  # a codebook's text is never one line
        return parse_codebook(source)
    path = Path(source)
    return parse_codebook(_read(path), str(path), path.parent)


def parse_codebook(text: str, source: str = "<text>", base: Path | None = None) -> Codebook:
    """Check a codebook's YAML text and build it; `base` resolves lexicon paths (default: the
    working directory)."""
    check = check_codebook(text, source, base)
    if check.codebook is None:
        problems = check.problems
        more = (
            f" (and {len(problems) - 1} more: run `smcat code codebook validate {source}`)"
            if len(problems) > 1
            else ""
        )
        raise CodebookError(f"{problems[0]}{more}")
    return check.codebook


@dataclass(frozen=True)
class CodebookCheck:
    """A codebook's problems in file order, and the codebook when it has none."""

    problems: list[CodebookProblem]
    codebook: Codebook | None


def check_codebook(text: str, source: str = "<text>", base: Path | None = None) -> CodebookCheck:
    """Check a codebook's YAML text and, when it has no problem, build the codebook from the
    same parse: the text is read as YAML once. Lexicon files are looked for in `base` (the
    codebook's folder) when it is given, and resolved against it (or the working directory)."""
    root, problems = _checked_root(text, source, base)
    if root is None or problems:
        return CodebookCheck(problems, None)
    data = SafeConstructor().construct_document(root)
    levels = {
        key: Level(key, value["name_zh"], value["name_en"]) for key, value in data["levels"].items()
    }
    subcategories = tuple(_subcategory(entry, base) for entry in data["subcategories"])
    masking = Masking(**(data.get("masking") or {}))
    codebook = Codebook(
        data["codebook"],
        data["version"],
        MappingProxyType(levels),
        subcategories,
        text,
        source,
        masking,
    )
    return CodebookCheck([], codebook)


def check_codebook_file(path: Path) -> CodebookCheck:
    """`check_codebook` of a codebook file, its lexicons looked for next to it."""
    return check_codebook(_read(path), str(path), path.parent)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise CodebookError(f"cannot read codebook {path}: {error.strerror}") from None
    except UnicodeDecodeError:  # a binary file, or text saved in another encoding
        raise CodebookError(
            f"codebook {path} is not UTF-8 text: give a YAML codebook saved as UTF-8"
        ) from None


def _subcategory(entry: dict[str, Any], base: Path | None) -> Subcategory:
    return Subcategory(
        id=entry["id"],
        level=entry["level"],
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        definition=entry["definition"],
        coded=entry.get("coded", True),
        rules=tuple(_rule(rule, base) for rule in entry.get("rules") or ()),
        examples=tuple(entry.get("examples") or ()),
        rule_only=entry.get("rule_only", False),
    )


def _rule(rule: dict[str, Any], base: Path | None) -> Rule:
    rule_id = rule["id"]
    if "cues" in rule:
        return CueRule(rule_id, tuple(str(cue) for cue in rule["cues"]), rule.get("match", "text"))
    if "regex" in rule:
        return RegexRule(rule_id, re.compile(rule["regex"]))
    if "metadata" in rule:
        condition = rule["metadata"]
        value = condition["value"]
        return MetadataRule(
            rule_id,
            condition["field"],
            condition["op"],
            tuple(value) if isinstance(value, list) else value,
        )
    if "hot_words" in rule:
        options = rule["hot_words"] or {}
        lexicon = options.get("lexicon")
        folder = base or Path.cwd()
        path = folder / lexicon if lexicon else None
        periods = tuple(
            Lexicon(folder / item["file"], item.get("valid_from"), item.get("valid_to"))
            for item in options.get("lexicons") or ()
        )
        return HotWordsRule(rule_id, int(options.get("window_days", 7)), path, periods)
    options = rule["topics"] or {}
    return TopicsRule(
        rule_id, int(options.get("min_count", 1)), bool(options.get("on_hot_list", False))
    )


# -- validation -----------------------------------------------------------------------------


def validate_codebook(
    text: str, source: str = "<text>", base: Path | None = None
) -> list[CodebookProblem]:
    """Every mistake in a codebook's YAML text, in file order, each with its line, column and
    fix; `str(problem)` is "SOURCE:LINE:COL: message". Lexicon files are looked for in `base`
    (the codebook's folder) when it is given."""
    return _checked_root(text, source, base)[1]


def _checked_root(
    text: str, source: str, base: Path | None
) -> tuple[Node | None, list[CodebookProblem]]:
    """The text composed into YAML nodes (None if it cannot be), and its problems."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        return None, [_syntax_problem(error, source)]
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"YAML: the control character U+{code:04X} is not allowed: remove it"
        return None, [CodebookProblem(source, line, column, message)]
    if root is None:
        message = f"the codebook is empty: give {', '.join(TOP_KEYS)}"
        return None, [CodebookProblem(source, 1, 1, message)]
    checker = _Checker(text, source, base)
    checker.check_root(root)
    return root, sorted(checker.problems, key=lambda p: (p.line, p.column))


def _syntax_problem(error: yaml.MarkedYAMLError, source: str) -> CodebookProblem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = error.problem or "not valid YAML"
    # an unclosed quote or bracket is reported at the end; where it opened is what to fix
    if error.context and error.context_mark and error.context_mark.line + 1 != line:
        reason += f" ({error.context} on line {error.context_mark.line + 1})"
    fix = next((fix for start, fix in _YAML_FIXES if reason.startswith(start)), "fix the markup")
    return CodebookProblem(source, line, column, f"YAML syntax: {reason}: {fix}")


def _peek(node: Node, key: str) -> str | None:
    """The text of a mapping node's scalar `key`, to name the mapping before it is checked."""
    if isinstance(node, MappingNode):
        for name, value in node.value:
            if name.value == key and isinstance(value, ScalarNode):
                return str(value.value)
    return None


class _Checker:
    """Walks the composed YAML nodes, so that every problem knows its line."""

    def __init__(self, text: str, source: str, base: Path | None) -> None:
        self.text, self.source, self.base = text, source, base
        self.problems: list[CodebookProblem] = []
        self.constructor = SafeConstructor()
        self.ids: dict[str, int] = {}
        self.rule_ids: dict[str, int] = {}
        self.levels: set[str] = set()

    def problem(self, node: Node, message: str, offset: int = 0) -> None:
        mark = node.start_mark
        line, column = mark.line + 1, mark.column + 1 + offset
        self.problems.append(CodebookProblem(self.source, line, column, message))

    def mapping(
        self, node: Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        """The entries of a mapping node by key (values are nodes); unknown, repeated and
        missing keys reported. `allowed` empty: any key."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return {}
        entries: dict[str, Node] = {}
        meant: set[str] = set()  # keys a misspelling stands for: not reported missing as well
        for key, value in node.value:
            name = str(key.value)
            if name in entries:
                self.problem(key, f"{what}: {name!r} is given twice: keep one")
            elif allowed and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                meant.update(close)
                hint = (
                    f": did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
                )
                self.problem(key, f"{what}: unknown key {name!r}{hint}")
            entries[name] = value
        for name in required:
            if name not in entries and name not in meant:
                self.problem(node, f"{what}: {name!r} is missing: add it")
        return entries

    def scalar(self, node: Node | None, what: str, kind: type | tuple[type, ...]) -> Any:
        """The value of a scalar node if it has the type asked for, else None (reported)."""
        if node is None:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        found = _TAG_TYPES.get(node.tag) if isinstance(node, ScalarNode) else None
        if found is None or found not in kinds:
            # a float field takes whole numbers too, so "a number" says it all
            wanted = " or ".join(_TYPE_NAMES[k] for k in kinds if not (k is int and float in kinds))
            hint = ""
            if node.tag == _NULL:
                hint = ": give a value"
            elif str in kinds and isinstance(node, ScalarNode):
                # YAML reads 1, 3.8, yes, 2025-03-08 as numbers, booleans, dates
                hint = f' (quote it: "{node.value}")'
            self.problem(node, f"{what} must be {wanted}{hint}")
            return None
        return self.constructor.construct_object(node)

    def text_value(self, node: Node | None, what: str) -> str | None:
        """A string that must not be blank."""
        value = self.scalar(node, what, str)
        if node is not None and value is not None and not value.strip():
            self.problem(node, f"{what} is empty: write it")
            return None
        return value

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        """The items of a sequence node (none if the node is absent or not a list)."""
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def check_root(self, root: Node) -> None:
        top = self.mapping(root, "the codebook", (*TOP_KEYS, *OPTIONAL_TOP_KEYS), TOP_KEYS)
        if "masking" in top:
            masking = self.mapping(top["masking"], "masking", MASKING_KEYS)
            for key, node in masking.items():
                self.scalar(node, f"masking: {key}", bool)
        for key, what in (("codebook", "codebook (its name)"), ("version", "version")):
            value = self.text_value(top.get(key), what)
            if value is not None and not _NAME.match(value):
                self.problem(top[key], f"{what} {value!r}: use only letters, digits, _ . -")
        if "levels" in top:
            levels = self.mapping(top["levels"], "levels", ())
            for name, node in levels.items():
                entry = self.mapping(node, f"level {name}", LEVEL_KEYS, LEVEL_KEYS)
                for key in LEVEL_KEYS:
                    self.text_value(entry.get(key), f"level {name}: {key}")
                if not _LEVEL.match(name):
                    self.problem(node, f"level {name!r}: name a level by one capital letter: A")
                self.levels.add(name)
        subcategories = self.sequence(top.get("subcategories"), "subcategories")
        if "subcategories" in top and not subcategories:
            self.problem(top["subcategories"], "subcategories: the list is empty: add some")
        for node in subcategories:
            self.check_subcategory(node)

    def check_subcategory(self, node: Node) -> None:
        label = f"subcategory {_peek(node, 'id') or '?'}"
        entry = self.mapping(node, label, SUBCATEGORY_KEYS, REQUIRED_SUBCATEGORY_KEYS)
        what = label
        sub_id = self.scalar(entry.get("id"), f"{what}: id", str)
        match = _ID.match(sub_id) if sub_id is not None else None
        if sub_id is not None and match is None:
            self.problem(entry["id"], f"{what}: an id is a level letter and a number, like B3")
        if sub_id in self.ids:
            line = self.ids[sub_id]
            self.problem(entry["id"], f"{what}: id already used on line {line}: renumber one")
        elif sub_id is not None:
            self.ids[sub_id] = entry["id"].start_mark.line + 1
        level = self.scalar(entry.get("level"), f"{what}: level", str)
        if level is not None and self.levels and level not in self.levels:
            known = ", ".join(sorted(self.levels))
            self.problem(entry["level"], f"{what}: level {level!r} is not one of {known}")
        elif level is not None and match and match[1] != level:
            self.problem(
                entry["level"],
                f"{what}: the id says level {match[1]}, not {level}: change the level or the id",
            )
        for key in ("name_zh", "name_en", "definition"):
            self.text_value(entry.get(key), f"{what}: {key}")
        coded = self.scalar(entry.get("coded"), f"{what}: coded", bool)
        rule_only = self.scalar(entry.get("rule_only"), f"{what}: rule_only", bool)
        if coded is False and rule_only:
            self.problem(
                entry["rule_only"], f"{what}: rule_only applies to coded subcategories: remove it"
            )
        rules = self.sequence(entry.get("rules"), f"{what}: rules")
        examples = self.sequence(entry.get("examples"), f"{what}: examples")
        if coded is not False and not rules:
            self.problem(node, f"{what}: a coded subcategory needs rules (or set coded: false)")
        if coded is not False and len(examples) < 2:
            self.problem(node, f"{what}: give at least two examples")
        for example in examples:
            self.text_value(example, f"{what}: an example")
        cues: dict[str, int] = {}  # a cue listed twice in one subcategory is a slip
        prefix = f"{sub_id}." if match else None
        for rule in rules:
            self.check_rule(rule, what, prefix, cues)

    def check_rule(self, node: Node, what: str, prefix: str | None, cues: dict[str, int]) -> None:
        entry = self.mapping(node, f"{what}: a rule", RULE_KEYS, ("id",))
        rule_id = self.text_value(entry.get("id"), f"{what}: rule id")
        if rule_id in self.rule_ids:
            line = self.rule_ids[rule_id]
            self.problem(
                entry["id"], f"{what}: rule id {rule_id} already used on line {line}: rename one"
            )
        elif rule_id is not None:
            self.rule_ids[rule_id] = entry["id"].start_mark.line + 1
            # evidence names the rule, so its id must say which subcategory it belongs to
            if prefix is not None and not rule_id.startswith(prefix):
                self.problem(
                    entry["id"],
                    f"{what}: rule id {rule_id!r} must start with {prefix!r}: rename it, "
                    f"like {prefix}cue",
                )
        kinds = [kind for kind in RULE_KINDS if kind in entry]
        if len(kinds) != 1:
            # no kind but an unknown key: a misspelt kind, already reported with its suggestion
            if kinds or set(entry) <= set(RULE_KEYS):
                fix = f"it has {', '.join(kinds)}: make one rule of each" if kinds else "add one"
                self.problem(
                    node, f"{what}: a rule has exactly one of {', '.join(RULE_KINDS)}: {fix}"
                )
            return
        kind, value = kinds[0], entry[kinds[0]]
        where = f"{what}: rule {rule_id}"
        if kind == "cues":
            self.check_cues(value, where, cues)
            self.check_match(entry.get("match"), where)
        else:
            if "match" in entry:
                self.problem(entry["match"], f"{where}: match applies to cues only: remove it")
            getattr(self, f"check_{kind}")(value, where)

    def check_cues(self, node: Node, where: str, seen: dict[str, int]) -> None:
        cues = self.sequence(node, f"{where}: cues")
        if isinstance(node, SequenceNode) and not cues:
            self.problem(node, f"{where}: the cue list is empty: add cue words")
        for cue in cues:
            value = self.scalar(cue, f"{where}: a cue", (str, int))
            if value is None:
                continue
            word, line = str(value), cue.start_mark.line + 1
            if not word.strip():
                self.problem(cue, f"{where}: an empty cue matches everything: remove it")
            elif LONE_SURROGATE.search(word):
                self.problem(cue, f"{where}: cue {word!r} holds half of a UTF-16 pair: fix it")
            elif word in seen:
                self.problem(cue, f"{where}: cue {word!r} is already listed on line {seen[word]}")
            else:
                seen[word] = line

    def check_match(self, node: Node | None, where: str) -> None:
        value = self.scalar(node, f"{where}: match", str)
        if node is not None and value is not None and value not in CUE_MATCHES:
            known = ", ".join(CUE_MATCHES)
            self.problem(node, f"{where}: match {value!r} is not one of {known}")

    def check_regex(self, node: Node, where: str) -> None:
        pattern = self.scalar(node, f"{where}: regex", str)
        if pattern is None:
            return
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            fix = next((f for start, f in _REGEX_FIXES if error.msg.startswith(start)), "fix it")
            at = error.pos or 0
            self.problem(
                node,
                f"{where}: regex '{pattern}' does not compile: {error.msg} at character "
                f"{at + 1}: {fix}",
                self.offset_in_line(node, pattern, at),
            )
            return
        if compiled.match(""):
            self.problem(node, f"{where}: regex {pattern!r} matches empty text: tighten it")

    def offset_in_line(self, node: Node, value: str, at: int) -> int:
        """Columns from a scalar's start to its character `at`, when the source spells the value
        literally on one line (no escapes); else 0, so the column is the scalar's start."""
        raw = self.text[node.start_mark.index : node.end_mark.index]
        quote = 1 if raw[:1] in ("'", '"') else 0
        return quote + at if raw[quote : len(raw) - quote] == value else 0

    def check_metadata(self, node: Node, where: str) -> None:
        keys = ("field", "op", "value")
        entry = self.mapping(node, f"{where}: metadata", keys, keys)
        field = self.scalar(entry.get("field"), f"{where}: field", str)
        op = self.scalar(entry.get("op"), f"{where}: op", str)
        if field is not None and field not in METADATA_FIELDS:
            close = difflib.get_close_matches(field, METADATA_FIELDS, n=1)
            known = ", ".join(METADATA_FIELDS)
            hint = f": did you mean {close[0]!r}?" if close else f" (known: {known})"
            self.problem(entry["field"], f"{where}: unknown field {field!r}{hint}")
            return
        if op is not None and op not in OPERATORS:
            self.problem(entry["op"], f"{where}: op {op!r} is not one of {' '.join(OPERATORS)}")
            return
        if field is None or op is None or "value" not in entry:
            return
        if op == "in":
            items = self.sequence(entry["value"], f"{where}: the value of in")
            if isinstance(entry["value"], SequenceNode) and not items:
                self.problem(entry["value"], f"{where}: the value of in is empty: list values")
        else:
            items = [entry["value"]]
        for item in items:
            self.check_field_value(item, field, where)

    def check_field_value(self, node: Node, field: str, where: str) -> None:
        value = self.scalar(node, f"{where}: a value of {field}", METADATA_FIELDS[field])
        if field == "media_type" and value is not None and value not in MEDIA_TYPES:
            known = ", ".join(MEDIA_TYPES)
            self.problem(node, f"{where}: media_type {value!r} is not one of {known}")
        low, high = _FIELD_RANGES.get(field, (None, None))
        if value is not None and low is not None and not low <= value <= high:
            self.problem(node, f"{where}: {field} runs from {low} to {high}, not {value}")

    def check_hot_words(self, node: Node, where: str) -> None:
        if node.tag == _NULL:  # no options: the defaults
            return
        entry = self.mapping(node, f"{where}: hot_words", ("window_days", "lexicon", "lexicons"))
        days = self.scalar(entry.get("window_days"), f"{where}: window_days", int)
        if days is not None and days < 0:
            self.problem(entry["window_days"], f"{where}: window_days must be 0 or more")
        lexicon = entry.get("lexicon")
        if lexicon is not None and lexicon.tag != _NULL:
            self.check_lexicon_file(lexicon, f"{where}: lexicon")
        for item in self.sequence(entry.get("lexicons"), f"{where}: lexicons"):
            self.check_period_lexicon(item, where)

    def check_lexicon_file(self, node: Node, what: str) -> None:
        name = self.scalar(node, what, str)
        if name is not None and self.base is not None and not (self.base / name).is_file():
            self.problem(
                node,
                f"{what} {name!r} not found next to the codebook: "
                f"give its path relative to the codebook, or null",
            )

    def check_period_lexicon(self, node: Node, where: str) -> None:
        keys = ("file", "valid_from", "valid_to")
        entry = self.mapping(node, f"{where}: a period lexicon", keys, ("file",))
        if "file" in entry:
            self.check_lexicon_file(entry["file"], f"{where}: lexicon")
        days: dict[str, date | None] = {}
        for key in ("valid_from", "valid_to"):
            if key in entry:
                days[key] = self.scalar(entry[key], f"{where}: {key}", date)
        start, end = days.get("valid_from"), days.get("valid_to")
        if start is not None and end is not None and start > end:
            self.problem(entry["valid_to"], f"{where}: valid_to is before valid_from: swap them")

    def check_topics(self, node: Node, where: str) -> None:
        if node.tag == _NULL:
            return
        entry = self.mapping(node, f"{where}: topics", ("min_count", "on_hot_list"))
        count = self.scalar(entry.get("min_count"), f"{where}: min_count", int)
        if count is not None and count < 1:
            self.problem(entry["min_count"], f"{where}: min_count must be 1 or more")
        self.scalar(entry.get("on_hot_list"), f"{where}: on_hot_list", bool)
