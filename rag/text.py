"""Text helpers shared by retrieval, answering and evaluation: accent folding, tokens, sentences."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that NFKD does not decompose into a base letter plus a combining mark.
_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss"})
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})

WORD_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)

STOPWORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during before
    after above below to from up down in out on off over under again further then once here there
    when where why how all any both each few more most other some such no nor not only own same so
    than too very s t can will just don should now is are was were be been being have has had having
    do does did doing i me my we our you your he him his she her it its they them their what which
    who whom this that these those am would could shall may might must also as per via while than
    s said says tell told according""".split()
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case `text` and strip diacritics, so that `Trọng`, `TRONG` and `trong` compare equal.

    The result has the same number of characters as the input for every letter NFKD folds
    to one base letter, which covers Vietnamese; callers never map folded offsets back.
    """
    text = text.translate(_EXTRA_FOLDS).translate(_QUOTES)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.lower()


# Vietnamese names written as one word or two: "Việt Nam" / "Vietnam", "Hà Nội" / "Hanoi".
# The United States goes by many names; articles mostly say "US".
_COMPOUNDS = {("viet", "nam"): "vietnam", ("ha", "noi"): "hanoi", ("da", "nang"): "danang",
              ("hai", "phong"): "haiphong", ("can", "tho"): "cantho", ("united", "states"): "us"}
_ALIASES = {"america": "us", "american": "us", "americans": "us", "usa": "us", "u.s": "us"}


_COMPOUND_FIRSTS = frozenset(first for first, _ in _COMPOUNDS)


def words(text: str) -> list[str]:
    """Folded word and number tokens of `text` (numbers keep their separators: `2.2`, `415,198`)."""
    tokens = WORD_RE.findall(fold(text))
    if _COMPOUND_FIRSTS.isdisjoint(tokens):  # the common case, without a Python loop per token
        return [_ALIASES.get(t, t) for t in tokens]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        pair = tuple(tokens[i : i + 2])
        if pair in _COMPOUNDS:
            out.append(_COMPOUNDS[pair])
            i += 2
        else:
            out.append(_ALIASES.get(tokens[i], tokens[i]))
            i += 1
    return out


_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-zà-ỹđ][\w’'-]*")


def lower_case_words(texts) -> frozenset[str]:
    """The folded words that `texts` write in lower case somewhere: common words ("policy",
    "climate"), as opposed to names, which are always capitalised."""
    seen: set[str] = set()
    for text in texts:
        seen.update(_LOWER_WORD.findall(text))
    return frozenset(fold(w) for w in seen)


_BRITISH = re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations)$")


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """Snowball English stem, with British -ise spellings read as -ize (`emphasised` = `emphasized`)."""
    if token[:1].isdigit():
        return token
    return _stemmer().stemWord(_BRITISH.sub(r"iz\1", token))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Folded, stemmed content terms of `text`, stopwords removed: the unit of lexical matching."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


_CITATION_MARK = re.compile(r"\s*\[\d+\](?:\s*\[\d+\])*")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD-style normalisation with accent folding; citation markers `[n]` are removed first."""
    text = _CITATION_MARK.sub(" ", text)
    text = fold(text)
    text = _PUNCT.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())
