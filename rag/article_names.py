"""Naming articles the way a reader would: a title (or the headline sentence), the outlet's name, a date.

Used by the web UI, the CLI and the Markdown export, so an article is called the same thing
everywhere. The file name and offsets stay available (`ArticleName.source`) for those who check.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.errors import RagError

# Outlet codes as rag.documents records them -> the names readers know. Extend it with a file of
# `CODE = Name` lines named by RAG_OUTLET_NAMES (Settings.outlet_names); unknown codes show as written.
OUTLET_NAMES = {
    "VNA": "Vietnam News Agency",
    "VNS": "Viet Nam News",
    "VOV": "Voice of Vietnam",
    "VLLF": "Vietnam Law & Legal Forum",
    "VnExpress": "VnExpress",
    "Tuoi Tre": "Tuổi Trẻ",
}
HEADLINE_CHARS = 90  # a headline sentence longer than this is cut at a word and ends in "…"


def load_outlet_names(path: str | Path | None = None) -> dict[str, str]:
    """The built-in outlet table, extended (or overridden) by `CODE = Name` lines from `path`.

    Blank lines and lines starting with `#` are ignored; a tab may stand for ` = `.
    """
    names = dict(OUTLET_NAMES)
    if path is None:
        return names
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(
            f"{path}: the outlet names cannot be read ({exc}); fix or unset RAG_OUTLET_NAMES"
        ) from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code, sep, name = line.partition("=") if "=" in line else line.partition("\t")
        if sep and code.strip() and name.strip():
            names[code.strip()] = name.strip()
    return names


def outlet_name(code: str | None, names: dict[str, str] | None = None) -> str | None:
    """The outlet's name for a code (`VNA` -> `Vietnam News Agency`); an unknown code as written."""
    if not code:
        return None
    table = OUTLET_NAMES if names is None else names
    return table.get(code) or table.get(code.upper()) or code


def readable_date(iso: str | None, short: bool = False) -> str | None:
    """`2023-04-15` -> `15 April 2023` (`15 Apr 2023` when short; anything else as given)."""
    if not iso:
        return None
    try:
        day = datetime.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%b %Y}" if short else f"{day.day} {day:%B %Y}"


def shorten(sentence: str, limit: int = HEADLINE_CHARS) -> str:
    """A sentence cut at a word boundary to at most `limit` characters, ending in "…" when cut."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= limit:
        return sentence.rstrip(".")
    cut = sentence[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:—–-") + "…"


@dataclass(frozen=True)
class ArticleName:
    """How an article is called: `label` for people, `source` (the file) for checking."""

    source: str
    label: str
    titled: bool  # the file has a title; otherwise `label` is its headline sentence, shortened
    outlet: str | None = None  # the outlet's name (not the code)
    outlet_code: str | None = None
    date: str | None = None  # ISO
    path: str | None = None

    @property
    def byline(self) -> str:
        """`Viet Nam News · 15 April 2023`, or what of it is known."""
        return " · ".join(x for x in (self.outlet, readable_date(self.date)) if x)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "label": self.label,
            "titled": self.titled,
            "outlet": self.outlet,
            "outlet_code": self.outlet_code,
            "date": self.date,
        }


def name_article(
    source: str,
    title: str | None = None,
    date: str | None = None,
    outlet: str | None = None,
    path: str | None = None,
    names: dict[str, str] | None = None,
) -> ArticleName:
    """Name one article from its metadata; without a title, its first sentence is read from `path`."""
    label, titled = (title.strip(), True) if title and title.strip() else (None, False)
    if label is None:
        label = headline(path) or source
    return ArticleName(source, label, titled, outlet_name(outlet, names), outlet, date, path)


def headline(path: str | Path | None) -> str | None:
    """The article's first sentence of prose (boilerplate left out), shortened; None if unreadable."""
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _headline(str(path), st.st_mtime_ns, st.st_size)


# Where a headline's first sentence ends: ".", "!" or "?" after two lower-case letters or digits (so
# not "U.S." or "Mr."), then space and a capital. Only for a label, so no punkt: loading it (nltk,
# scipy) would make every `rag ask` wait two seconds to print its sources' names. On the demo,
# SQuAD and 200 synthetic articles it gives the same labels as punkt.
_SENTENCE_END = re.compile(r"(?<=[a-z0-9]{2}[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])")


@lru_cache(maxsize=4096)
def _headline(path: str, mtime_ns: int, size: int) -> str | None:
    from rag.documents import ArticleError, read_article

    try:
        article = read_article(Path(path), Path(path).name)
    except ArticleError:
        return None
    start, end = article.blocks[0]
    line = re.match(r"[^\n]*", article.text[start:end]).group(0)
    cut = _SENTENCE_END.search(line)
    text = re.sub(r"\s+", " ", line[: cut.start()] if cut else line).strip()
    return shorten(text) if text else None


def name_rows(rows: list[dict], names: dict[str, str] | None = None) -> dict[str, ArticleName]:
    """source -> ArticleName for rows like `Assistant.articles()` returns."""
    return {
        r["source"]: name_article(
            r["source"], r.get("title"), r.get("date"), r.get("outlet"), r.get("path"), names
        )
        for r in rows
    }
