"""Codebooks: the subcategories posts are coded into, with the rules the machine applies.

A codebook is a YAML file (see coding/codebooks/brand_posts_v1.yaml, whose header documents
the format). `validate_codebook` reports every mistake with its line and column, so that a
researcher editing a copy can fix them all at once; `load_codebook` gives the checked codebook
as frozen dataclasses, with regular expressions compiled and lexicon paths resolved.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from smcat.errors import SmcatError

CODEBOOKS = Path(__file__).resolve().parent / "codebooks"
TOP_KEYS = ("codebook", "version", "levels", "subcategories")
LEVEL_KEYS = ("name_zh", "name_en")
SUBCATEGORY_KEYS = (
    "id", "level", "name_zh", "name_en", "definition", "coded", "rules", "examples",
)  # fmt: skip
REQUIRED_SUBCATEGORY_KEYS = ("id", "level", "name_zh", "name_en", "definition")
RULE_KINDS = ("cues", "regex", "metadata", "hot_words", "topics")
# post fields a metadata rule may test, and the Python types their values take
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
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in")
_ID = re.compile(r"^([A-Z])(\d{1,2})$")
_TAG_TYPES = {
    "tag:yaml.org,2002:str": str,
    "tag:yaml.org,2002:int": int,
    "tag:yaml.org,2002:float": float,
    "tag:yaml.org,2002:bool": bool,
}


class CodebookError(SmcatError):
    """A codebook that cannot be used; one line, naming the first problem and the fix."""


@dataclass(frozen=True)
class CodebookProblem:
    """One mistake in a codebook file, where it is, and how to fix it."""

    source: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class CueRule:
    """Matches when the text contains one of the cue words."""

    id: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class RegexRule:
    """Matches where the regular expression does."""

    id: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class MetadataRule:
    """Matches when a field of the post satisfies `field op value`."""

    id: str
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class HotWordsRule:
    """Matches a token on the hot-search list within `window_days`, or in the lexicon."""

    id: str
    window_days: int
    lexicon: Path | None


@dataclass(frozen=True)
class TopicsRule:
    """Matches at least `min_count` #micro-topics#; `on_hot_list` also notes the hot ones."""

    id: str
    min_count: int
    on_hot_list: bool


Rule = CueRule | RegexRule | MetadataRule | HotWordsRule | TopicsRule


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


@dataclass(frozen=True)
class Codebook:
    """A checked codebook and the YAML text it came from (stored with the codes)."""

    name: str
    version: str
    levels: dict[str, str]
    subcategories: tuple[Subcategory, ...]
    yaml_text: str
    source: str

    @property
    def coder(self) -> str:
        """The coder name of the machine's codes under this codebook version."""
        return f"auto:{self.name}@{self.version}"

    def coded(self) -> tuple[Subcategory, ...]:
        """The subcategories that are coded (0/1), in codebook order."""
        return tuple(s for s in self.subcategories if s.coded)


def default_codebook_path() -> Path:
    """The codebook smcat ships: brand_posts, version 1."""
    return CODEBOOKS / "brand_posts_v1.yaml"


def load_codebook(path: Path) -> Codebook:
    """Read and check a codebook file; CodebookError if it has mistakes."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CodebookError(f"cannot read codebook {path}: {error.strerror}") from None
    return parse_codebook(text, str(path), path.parent)


def parse_codebook(text: str, source: str = "<text>", base: Path | None = None) -> Codebook:
    """Check a codebook's YAML text and build it; `base` resolves lexicon paths."""
    problems = validate_codebook(text, source, base)
    if problems:
        more = (
            f" (and {len(problems) - 1} more: run `smcat code codebook validate {source}`)"
            if len(problems) > 1
            else ""
        )
        raise CodebookError(f"{problems[0]}{more}")
    data = yaml.safe_load(text)
    subcategories = tuple(_subcategory(entry, base) for entry in data["subcategories"])
    levels = {key: value["name_zh"] for key, value in data["levels"].items()}
    return Codebook(data["codebook"], data["version"], levels, subcategories, text, source)


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
    )


def _rule(rule: dict[str, Any], base: Path | None) -> Rule:
    rule_id = rule["id"]
    if "cues" in rule:
        return CueRule(rule_id, tuple(str(cue) for cue in rule["cues"]))
    if "regex" in rule:
        return RegexRule(rule_id, re.compile(rule["regex"]))
    if "metadata" in rule:
        condition = rule["metadata"]
        return MetadataRule(rule_id, condition["field"], condition["op"], condition["value"])
    if "hot_words" in rule:
        options = rule["hot_words"] or {}
        lexicon = options.get("lexicon")
        path = (base or Path.cwd()) / lexicon if lexicon else None
        return HotWordsRule(rule_id, int(options.get("window_days", 7)), path)
    options = rule["topics"] or {}
    return TopicsRule(
        rule_id, int(options.get("min_count", 1)), bool(options.get("on_hot_list", False))
    )


# -- validation -----------------------------------------------------------------------------


def validate_codebook(
    text: str, source: str = "<text>", base: Path | None = None
) -> list[CodebookProblem]:
    """Every mistake in a codebook's YAML text, in file order, each with its line and fix."""
    checker = _Checker(source, base)
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = error.problem or "not valid YAML"
        return [CodebookProblem(source, line, column, f"YAML syntax: {reason}: fix the markup")]
    if root is None:
        return [CodebookProblem(source, 1, 1, f"the codebook is empty: give {', '.join(TOP_KEYS)}")]
    checker.check_root(root)
    return sorted(checker.problems, key=lambda p: (p.line, p.column))


class _Checker:
    """Walks the composed YAML nodes, so that every problem knows its line."""

    def __init__(self, source: str, base: Path | None) -> None:
        self.source, self.base = source, base
        self.problems: list[CodebookProblem] = []
        self.ids: dict[str, int] = {}
        self.rule_ids: dict[str, int] = {}
        self.levels: set[str] = set()

    def problem(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(CodebookProblem(self.source, mark.line + 1, mark.column + 1, message))

    def mapping(
        self, node: Node, what: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Node]:
        """The entries of a mapping node by key; unknown and missing keys reported."""
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return {}
        entries: dict[str, Node] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in entries:
                self.problem(key, f"{what}: {name!r} is given twice: keep one")
            elif allowed and name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = (
                    f": did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
                )
                self.problem(key, f"{what}: unknown key {name!r}{hint}")
            entries[name] = value
        for name in required:
            if name not in entries:
                self.problem(node, f"{what}: {name!r} is missing: add it")
        return entries

    def scalar(self, node: Node | None, what: str, kind: type | tuple[type, ...]) -> Any:
        """The value of a scalar node if it has the type asked for, else None (reported)."""
        if node is None:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        found = _TAG_TYPES.get(node.tag) if isinstance(node, ScalarNode) else None
        if found is None or found not in kinds:
            wanted = " or ".join(k.__name__ for k in kinds)
            hint = ' (quote it: "1")' if str in kinds and found in (int, float) else ""
            self.problem(node, f"{what} must be a {wanted}{hint}")
            return None
        return yaml.safe_load(yaml.serialize(node))

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        return list(node.value)

    def check_root(self, root: Node) -> None:
        top = self.mapping(root, "the codebook", TOP_KEYS, TOP_KEYS)
        self.scalar(top.get("codebook"), "codebook (its name)", str)
        self.scalar(top.get("version"), "version", str)
        if "levels" in top:
            levels = self.mapping(top["levels"], "levels", ())
            for name, node in levels.items():
                self.mapping(node, f"level {name}", LEVEL_KEYS, LEVEL_KEYS)
                self.levels.add(name)
        subcategories = self.sequence(top.get("subcategories"), "subcategories")
        if "subcategories" in top and not subcategories:
            self.problem(top["subcategories"], "subcategories: the list is empty: add some")
        for node in subcategories:
            self.check_subcategory(node)

    def check_subcategory(self, node: Node) -> None:
        entry = self.mapping(node, "a subcategory", SUBCATEGORY_KEYS, REQUIRED_SUBCATEGORY_KEYS)
        sub_id = self.scalar(entry.get("id"), "id", str) or "?"
        what = f"subcategory {sub_id}"
        match = _ID.match(sub_id)
        if sub_id != "?" and match is None:
            self.problem(entry["id"], f"{what}: an id is a level letter and a number, like B3")
        if sub_id in self.ids:
            self.problem(entry["id"], f"{what}: id already used on line {self.ids[sub_id]}")
        elif "id" in entry:
            self.ids[sub_id] = entry["id"].start_mark.line + 1
        level = self.scalar(entry.get("level"), f"{what}: level", str)
        if level is not None and self.levels and level not in self.levels:
            known = ", ".join(sorted(self.levels))
            self.problem(entry["level"], f"{what}: level {level!r} is not one of {known}")
        elif level is not None and match and match[1] != level:
            self.problem(entry["level"], f"{what}: the id says level {match[1]}, not {level}")
        for key in ("name_zh", "name_en", "definition"):
            self.scalar(entry.get(key), f"{what}: {key}", str)
        coded = self.scalar(entry.get("coded"), f"{what}: coded", bool)
        rules = self.sequence(entry.get("rules"), f"{what}: rules")
        examples = self.sequence(entry.get("examples"), f"{what}: examples")
        if coded is not False and not rules:
            self.problem(node, f"{what}: a coded subcategory needs rules (or set coded: false)")
        if coded is not False and len(examples) < 2:
            self.problem(node, f"{what}: give at least two examples")
        for example in examples:
            self.scalar(example, f"{what}: an example", str)
        for rule in rules:
            self.check_rule(rule, what)

    def check_rule(self, node: Node, what: str) -> None:
        entry = self.mapping(node, f"{what}: a rule", ("id", *RULE_KINDS), ("id",))
        rule_id = self.scalar(entry.get("id"), f"{what}: rule id", str)
        if rule_id in self.rule_ids:
            line = self.rule_ids[rule_id]
            self.problem(entry["id"], f"{what}: rule id {rule_id} already used on line {line}")
        elif rule_id is not None:
            self.rule_ids[rule_id] = entry["id"].start_mark.line + 1
        kinds = [kind for kind in RULE_KINDS if kind in entry]
        if len(kinds) != 1:
            self.problem(node, f"{what}: a rule has exactly one of {', '.join(RULE_KINDS)}")
            return
        kind, value = kinds[0], entry[kinds[0]]
        where = f"{what}: rule {rule_id}"
        getattr(self, f"check_{kind}")(value, where)

    def check_cues(self, node: Node, where: str) -> None:
        cues = self.sequence(node, f"{where}: cues")
        if isinstance(node, SequenceNode) and not cues:
            self.problem(node, f"{where}: the cue list is empty: add cue words")
        seen: set[str] = set()
        for cue in cues:
            value = self.scalar(cue, f"{where}: a cue", (str, int))
            if value is None:
                continue
            if not str(value).strip():
                self.problem(cue, f"{where}: an empty cue matches everything: remove it")
            elif str(value) in seen:
                self.problem(cue, f"{where}: cue {value!r} is listed twice: keep one")
            seen.add(str(value))

    def check_regex(self, node: Node, where: str) -> None:
        pattern = self.scalar(node, f"{where}: regex", str)
        if pattern is None:
            return
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            self.problem(node, f"{where}: regex {pattern!r} does not compile: {error}")
            return
        if compiled.match(""):
            self.problem(node, f"{where}: regex {pattern!r} matches empty text: tighten it")

    def check_metadata(self, node: Node, where: str) -> None:
        keys = ("field", "op", "value")
        entry = self.mapping(node, f"{where}: metadata", keys, keys)
        field = self.scalar(entry.get("field"), f"{where}: field", str)
        op = self.scalar(entry.get("op"), f"{where}: op", str)
        if field is not None and field not in METADATA_FIELDS:
            close = difflib.get_close_matches(field, METADATA_FIELDS, n=1)
            hint = f": did you mean {close[0]!r}?" if close else ""
            self.problem(entry["field"], f"{where}: unknown field {field!r}{hint}")
            return
        if op is not None and op not in OPERATORS:
            self.problem(entry["op"], f"{where}: op {op!r} is not one of {' '.join(OPERATORS)}")
            return
        if field is None or op is None or "value" not in entry:
            return
        kinds = METADATA_FIELDS[field]
        if op == "in":
            for item in self.sequence(entry["value"], f"{where}: value of in"):
                self.scalar(item, f"{where}: each value of {field}", kinds)
        else:
            self.scalar(entry["value"], f"{where}: value of {field}", kinds)

    def check_hot_words(self, node: Node, where: str) -> None:
        entry = self.mapping(node, f"{where}: hot_words", ("window_days", "lexicon"))
        days = self.scalar(entry.get("window_days"), f"{where}: window_days", int)
        if days is not None and days < 0:
            self.problem(entry["window_days"], f"{where}: window_days must be 0 or more")
        lexicon = entry.get("lexicon")
        if lexicon is not None and lexicon.tag != "tag:yaml.org,2002:null":
            name = self.scalar(lexicon, f"{where}: lexicon", str)
            if name is not None and self.base is not None and not (self.base / name).is_file():
                self.problem(lexicon, f"{where}: lexicon {name!r} not found next to the codebook")

    def check_topics(self, node: Node, where: str) -> None:
        entry = self.mapping(node, f"{where}: topics", ("min_count", "on_hot_list"))
        count = self.scalar(entry.get("min_count"), f"{where}: min_count", int)
        if count is not None and count < 1:
            self.problem(entry["min_count"], f"{where}: min_count must be 1 or more")
        self.scalar(entry.get("on_hot_list"), f"{where}: on_hot_list", bool)
