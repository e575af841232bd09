"""Chinese word segmentation for coding: jieba's dictionary and behaviour, through a private
tokenizer instance, with user words (brand names, cue words, hot words) and stop words.

The fast backend is rjieba (the jieba-rs binding), with HMM off by default so that new words
come only from the dictionaries the researcher controls. Stock jieba (`backend="jieba"`) gives
the same tokens (tests/test_tokenize.py pins the two to each other) and is the benchmark's
yardstick. Latin brand names with spaces or hyphens (SK-II, iPhone 15) are not words to a
Chinese segmenter; `LatinNames` finds them in the raw text instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba
import rjieba

BACKENDS = ("rjieba", "jieba")
DEFAULT_STOP_WORDS = Path(__file__).resolve().parent / "dicts" / "stopwords_zh.txt"
_PUNCTUATION_ONLY = re.compile(r"^[\W_]+$")
_HYPHENS = "-－‐‑–—"
_HYPHEN = f"[{re.escape(_HYPHENS)}]"
_SPACE_OR_HYPHEN = re.compile(rf"[\s{re.escape(_HYPHENS)}]")
# Latin letters or digits on either side would make a match part of a longer name (iPhone 150)
_LATIN_EDGE_BEFORE = r"(?<![A-Za-z0-9])"
_LATIN_EDGE_AFTER = r"(?![A-Za-z0-9])"


@dataclass(frozen=True)
class UserWord:
    """One entry of a user dictionary in jieba's format: word [freq] [tag]."""

    word: str
    freq: int | None = None
    tag: str | None = None


def read_user_dict(path: Path) -> list[UserWord]:
    """The entries of a user dictionary file (UTF-8, one `word [freq] [tag]` per line; blank
    lines and lines starting with # are skipped). ValueError names the file and line."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) > 3 or (len(parts) >= 2 and not parts[1].isdigit()):
            raise ValueError(
                f"{path}:{number}: {line.strip()!r} is not `word [freq] [tag]`: write the "
                "frequency as a whole number after the word (or leave it out)"
            )
        freq = int(parts[1]) if len(parts) >= 2 else None
        entries.append(UserWord(parts[0], freq, parts[2] if len(parts) == 3 else None))
    return entries


def read_word_list(path: Path) -> list[str]:
    """The words of a plain list (one per line; blank lines and # comments skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class Tokenizer:
    """A private segmenter: its user words change no other Tokenizer and no global state.

    `user_dicts` are files in jieba's format; `words` are extra words (e.g. hot words from the
    hot_search table), added with jieba's suggested frequency; `stop_words` are left out by
    `words()` (not by `cut()`). `hmm` turns on jieba's HMM for unknown words (off by default).
    """

    def __init__(
        self,
        *,
        user_dicts: Sequence[Path] = (),
        words: Iterable[str] = (),
        stop_words: Iterable[str] = (),
        hmm: bool = False,
        backend: str = "rjieba",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        self.backend, self.hmm = backend, hmm
        self.stop_words = frozenset(stop_words)
        entries = [entry for path in user_dicts for entry in read_user_dict(path)]
        entries += [UserWord(word.strip()) for word in words if word.strip()]
        if backend == "rjieba":
            self._rjieba = rjieba.Jieba()
            for entry in entries:
                self._rjieba.add_word(entry.word, entry.freq, entry.tag)
            self._cut = self._rjieba_cut
        else:
            self._jieba = jieba.Tokenizer()
            for entry in entries:
                self._jieba.add_word(entry.word, entry.freq, entry.tag)
            self._cut = self._jieba_cut

    def _rjieba_cut(self, text: str) -> list[str]:
        return self._rjieba.cut(text, self.hmm)

    def _jieba_cut(self, text: str) -> list[str]:
        return list(self._jieba.cut(text, HMM=self.hmm))

    def cut(self, text: str) -> list[str]:
        """Every token of the text, whitespace and punctuation included, in order."""
        return self._cut(text)

    def cut_many(self, texts: Iterable[str]) -> list[list[str]]:
        """`cut` of each text."""
        cut = self._cut
        return [cut(text) for text in texts]

    def words(self, text: str) -> list[str]:
        """The tokens that carry words: no stop words, no whitespace or punctuation."""
        stop = self.stop_words
        return [t for t in self._cut(text) if t not in stop and not _PUNCTUATION_ONLY.match(t)]


def normalise_text(text: str) -> str:
    """Weibo text made ready for segmentation: zero-width spaces removed (Weibo puts them around
    links and topics), full-width and non-breaking spaces made plain spaces."""
    return text.replace("\u200b", "").replace("\u3000", " ").replace("\xa0", " ")


@dataclass(frozen=True)
class NameMatch:
    """Where a Latin name occurs in a text: its canonical spelling and [start, end) offsets."""

    name: str
    start: int
    end: int


class LatinNames:
    """Finds Latin brand and product names in raw text, case-insensitively, with any hyphen
    (SK-II, sk－ii) and an optional space (iPhone 15, iphone15), but not inside longer names
    (iPhone 150). One compiled alternation, longest names first."""

    def __init__(self, names: Iterable[str]) -> None:
        canonical = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
        self._by_key = {self._key(name): name for name in canonical}
        alternatives = "|".join(self._pattern(name) for name in canonical)
        self._regex = (
            re.compile(f"{_LATIN_EDGE_BEFORE}(?:{alternatives}){_LATIN_EDGE_AFTER}", re.IGNORECASE)
            if canonical
            else None
        )

    @staticmethod
    def _pattern(name: str) -> str:
        parts = []
        for char in name:
            if char in _HYPHENS:
                parts.append(_HYPHEN)
            elif char.isspace():
                parts.append(r"\s?")
            else:
                parts.append(re.escape(char))
        return "".join(parts)

    @staticmethod
    def _key(text: str) -> str:
        return _SPACE_OR_HYPHEN.sub("", text).casefold()

    def find(self, text: str) -> list[NameMatch]:
        """Every occurrence, in order."""
        return list(self.iter(text))

    def iter(self, text: str) -> Iterator[NameMatch]:
        """Every occurrence, in order, lazily."""
        if self._regex is None:
            return
        for match in self._regex.finditer(text):
            yield NameMatch(self._by_key[self._key(match[0])], match.start(), match.end())
