"""Chinese word segmentation for coding: jieba's dictionary and behaviour, through a private
tokenizer instance, with user words (brand names, cue words, hot words) and stop words.

The fast backend is rjieba (the jieba-rs binding), with HMM off by default so that new words
come only from the dictionaries the researcher controls. Stock jieba (`backend="jieba"`) is the
reference and the benchmark's yardstick; tests/test_tokenize.py pins the two to identical tokens
(HMM off) on our brand texts and on real Weibo recordings, with and without user words.

What it takes for the two to agree, and where they would otherwise differ:

- Frequencies. jieba counts the duplicated dictionary entry B超 twice in its total, adds a
  re-added word's new frequency to the total without taking the old one off, and suggests a
  frequency for a user word by multiplying ratios, which rounds 1 away from jieba-rs's log-space
  sum now and then. The jieba backend keeps jieba's segmentation (dictionary, regular
  expressions, DAG, route, HMM) and follows jieba-rs in this bookkeeping (`_StockJieba`).
- Word characters. jieba-rs counts CJK Extension A-F, compatibility ideographs and U+9FD6-9FFF
  as Han; jieba's class ends at U+9FD5. No dictionary word holds such a character, so the tokens
  are the same, unless a user word does: user words with a character outside jieba's word class
  (these, spaces, `·`, full-width letters, emoji) could never be one jieba token, so neither
  backend gets them; they are listed in `Tokenizer.untokenizable`, to be matched on the raw text.
- Lone surrogates (from broken JSON escapes) cannot cross into Rust; rjieba's text is cut around
  them, which gives jieba's tokens because jieba makes each one a token of its own.

Latin brand names with spaces or hyphens (SK-II, iPhone 15) are not words to a Chinese
segmenter; `LatinNames` finds them in the raw text instead.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import jieba
import rjieba

from coding.automaton import LONE_SURROGATE
from smcat.errors import SmcatError

BACKENDS = ("rjieba", "jieba")
DEFAULT_STOP_WORDS = Path(__file__).resolve().parent / "dicts" / "stopwords_zh.txt"
# jieba's re_han_default: only runs of these characters are segmented with the dictionary
_JIEBA_WORD = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")
_NO_WORD = re.compile(r"[\W_]+")
# `# ` starts a comment; `#话题#` is a Weibo topic, and # is in jieba's word class
_COMMENT = re.compile(r"#(\s|$)")
_FREQ = re.compile(r"[0-9]+")
_TAG = re.compile(r"[a-z]+")
_HYPHENS = "-－‐‑–—"
_WEIBO_SPACES = str.maketrans({"\u200b": None, "\ufeff": None, "\u3000": " ", "\xa0": " "})


class UserDictError(SmcatError, ValueError):
    """A user dictionary that cannot be read or has a bad line; one line naming the fix."""


@dataclass(frozen=True)
class UserWord:
    """One entry of a user dictionary in jieba's format: word [freq] [tag]."""

    word: str
    freq: int | None = None
    tag: str | None = None


def read_user_dict(path: str | Path) -> list[UserWord]:
    """The entries of a user dictionary in jieba's format: UTF-8, one `word [freq] [tag]` a line
    (freq a whole number of 1 or more, tag lowercase letters), blank lines and `# ` comments
    skipped. A bad line raises a one-line UserDictError (a ValueError) with the file, the line
    number and the fix; so does a file that cannot be read.
    """
    entries = []
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UserDictError(
            f"cannot read user dictionary {path}: {error.strerror}: fix the path given to "
            "--user-dict or in user_dicts"
        ) from None
    except UnicodeDecodeError:
        raise UserDictError(
            f"user dictionary {path} is not UTF-8 text: save it as UTF-8, one word a line"
        ) from None
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts or _COMMENT.match(parts[0]):
            continue
        freq = tag = None
        rest = parts[1:]
        if rest and _FREQ.fullmatch(rest[0]) and int(rest[0]) > 0:
            freq = int(rest.pop(0))
        if rest and _TAG.fullmatch(rest[0]):
            tag = rest.pop(0)
        if rest:
            raise UserDictError(
                f"{path}:{number}: {line.strip()!r} is not `word [freq] [tag]`: write one word "
                "without spaces, then optionally a frequency of 1 or more and a lowercase tag "
                "(match names with spaces on the raw text with LatinNames)"
            )
        entries.append(UserWord(parts[0], freq, tag))
    return entries


def read_word_list(path: str | Path) -> list[str]:
    """The lines of a plain list (one word or text a line), stripped; blank lines and `# `
    comments skipped, while a line starting `#话题#` is kept."""
    lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    return [line.strip() for line in lines if line.strip() and not _COMMENT.match(line.strip())]


class _StockJieba:
    """Stock jieba on a private `jieba.Tokenizer` (never `jieba.dt`), with rjieba's interface
    and jieba-rs's frequency bookkeeping (see the module docstring)."""

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        # prefixes are stored with frequency 0, so this counts each word once, as jieba-rs does
        self._jieba.total = sum(self._jieba.FREQ.values())

    def suggest_freq(self, word: str) -> int:
        """jieba-rs's `suggest_freq`, step by step: a sum of logs, then truncated, plus 1."""
        freqs, logtotal = self._jieba.FREQ, math.log(self._jieba.total)
        logfreq = 0.0
        for token in self._jieba.cut(word, HMM=False):
            logfreq = logfreq + math.log(freqs.get(token) or 1) - logtotal
        return max(int(math.exp(logfreq + logtotal)) + 1, freqs.get(word) or 1)

    def add_word(self, word: str, freq: int | None, tag: str | None) -> int:
        freq = self.suggest_freq(word) if freq is None else freq
        old = self._jieba.FREQ.get(word, 0)
        self._jieba.add_word(word, freq, tag)
        self._jieba.total -= old  # jieba adds the new frequency on top of the old one
        return freq

    def cut(self, text: str, hmm: bool) -> list[str]:
        return list(self._jieba.cut(text, HMM=hmm))


class Tokenizer:
    """A private segmenter: its user words change no other Tokenizer and no global state.

    `user_dicts` are files in jieba's format (`read_user_dict`); `words` are extra words (e.g.
    hot words from the hot_search table), given jieba-rs's suggested frequency when added.
    `stop_words` (a file of one word a line, or the words) are left out by `words()`, not by
    `cut()`. `hmm` turns on jieba's HMM for unknown words (off by default). `backend` is
    "rjieba" (fast) or "jieba" (the stock reference).

    After construction, `user_words` maps each user word added to the frequency it got, and
    `untokenizable` lists the user words left out because no jieba token can hold them.
    """

    def __init__(
        self,
        *,
        user_dicts: Iterable[str | Path] = (),
        words: Iterable[str | UserWord] = (),
        stop_words: str | Path | Iterable[str] = (),
        hmm: bool = False,
        backend: str = "rjieba",
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        if isinstance(words, str):
            raise TypeError("words takes a list of words, not one string: wrap it in a list")
        self.backend, self.hmm = backend, hmm
        if isinstance(stop_words, str | os.PathLike):
            stop_words = read_word_list(stop_words)
        self.stop_words = frozenset(stop_words)
        entries = [entry for path in user_dicts for entry in read_user_dict(path)]
        entries += [
            word if isinstance(word, UserWord) else UserWord(word.strip())
            for word in words
            if isinstance(word, UserWord) or word.strip()
        ]
        segmenter = rjieba.Jieba() if backend == "rjieba" else _StockJieba()
        self.user_words: dict[str, int] = {}
        untokenizable = []
        for entry in entries:
            if _JIEBA_WORD.fullmatch(entry.word):
                self.user_words[entry.word] = segmenter.add_word(entry.word, entry.freq, entry.tag)
            else:
                untokenizable.append(entry.word)
        self.untokenizable = tuple(dict.fromkeys(untokenizable))
        self._segment = segmenter.cut

    def cut(self, text: str) -> list[str]:
        """Every token of the text, whitespace and punctuation included, in order."""
        try:
            return self._segment(text, self.hmm)
        except UnicodeEncodeError:  # a lone surrogate, which Rust's UTF-8 strings cannot hold
            tokens = []
            # split() puts the surrogates at the odd places; each is a token, as in jieba
            for i, piece in enumerate(LONE_SURROGATE.split(text)):
                if i % 2:
                    tokens.append(piece)
                elif piece:
                    tokens += self._segment(piece, self.hmm)
            return tokens

    def cut_many(self, texts: Iterable[str]) -> list[list[str]]:
        """`cut` of each text: the batch call for coding many posts."""
        cut = self.cut
        return [cut(text) for text in texts]

    def words(self, text: str) -> list[str]:
        """The tokens that carry words: no stop words, no whitespace or punctuation."""
        stop = self.stop_words
        return [t for t in self.cut(text) if t not in stop and not _NO_WORD.fullmatch(t)]


def coding_tokenizer(user_dicts: Iterable[str | Path] = (), words: Iterable[str] = ()) -> Tokenizer:
    """The segmenter machine coding reads posts with: rjieba with HMM off (the tokens of stock
    jieba), the researcher's user dictionaries of brand and product names first (`--user-dict`,
    `user_dicts` in smcat.toml), then `words`. A model trained on its tokens sees the words the
    rules see; a bad dictionary raises a one-line UserDictError."""
    return Tokenizer(user_dicts=user_dicts, words=words)


def normalise_text(text: str) -> str:
    """Weibo text made ready for segmentation: zero-width spaces and byte-order marks removed
    (Weibo puts zero-width spaces around links and topics, where they split words), full-width
    and non-breaking spaces made plain spaces.

    A separate step that `Tokenizer` never applies by itself, so that both backends always see
    the same input: call it on the text before `cut` when you want it.
    """
    return text.translate(_WEIBO_SPACES)


@dataclass(frozen=True)
class NameMatch:
    """Where a Latin name occurs in a text: its canonical spelling and [start, end) offsets."""

    name: str
    start: int
    end: int


class LatinNames:
    """Finds Latin brand and product names in the raw text (not in tokens), case-insensitively.

    A space or hyphen in a name matches any run of spaces and hyphens, ASCII or full-width, or
    none: "SK-II" finds "sk－ii" and "SKII", "iPhone 15" finds "iphone15". A match cannot start
    or end inside a longer Latin word or number ("iPhone 15" is not in "iPhone 150"). All names
    are one compiled alternation, longer names first, so "iPhone 15 Pro" wins over "iPhone 15"
    where both fit.
    """

    def __init__(self, names: Iterable[str]) -> None:
        unique = {n.strip() for n in names if re.search(r"[^\W_]", n)}
        self.names = sorted(unique, key=lambda name: (-len(name), name))
        # one group per name: the group that matched (lastindex) names the canonical spelling
        alternatives = "|".join(f"({self._pattern(name)})" for name in self.names)
        self._regex = re.compile(
            f"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE
        )

    @staticmethod
    def _pattern(name: str) -> str:
        separator = f"[\\s{re.escape(_HYPHENS)}]*"
        parts = re.split(f"[\\s{re.escape(_HYPHENS)}]+", name)
        return separator.join(re.escape(part) for part in parts)

    def find(self, text: str) -> list[NameMatch]:
        """Every occurrence, in order, with its canonical name and character offsets."""
        if not self.names:
            return []
        names = self.names
        # every alternative is a group, so a match always has a last group: int, not None
        return [
            NameMatch(names[cast(int, m.lastindex) - 1], m.start(), m.end())
            for m in self._regex.finditer(text)
        ]
