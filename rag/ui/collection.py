"""What the collection holds, as the page shows it: names, outlets, date range, example questions."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.article_names import ArticleName, load_outlet_names, name_rows, outlet_name, readable_date
from rag.ui.render import esc

# Capitalised words that start sentences or name roles, places and bodies rather than people.
_NOT_NAMES = set(
    """a an and as at after before both but by during for from he her his in it its of on or our she so
    that the their these they this those to we with while who what when where which why how
    mr ms mrs dr prof general secretary president minister deputy prime chairman chairwoman
    ambassador party ministry department committee central commission state states united nam vietnam
    việt us u.s usa news agency foreign affairs communist national assembly government republic city
    province sea east west north south island bay day monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october november
    december washington hanoi hà nội new york dc asia pacific asean china chinese american vietnamese
    comprehensive partnership relations external southeast asian policy climate security advisor special
    envoy chief executive officer council business international development cooperation mayor governor
    senator spokesperson spokesman director head leader""".split()
)


@dataclass(frozen=True)
class Collection:
    """A snapshot of the ingested articles, named for readers."""

    rows: list[dict]
    names: dict[str, ArticleName]
    outlet_table: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, bot) -> Collection:
        table = load_outlet_names(bot.settings.outlet_names)
        rows = bot.articles()
        return cls(rows, name_rows(rows, table), table)

    @property
    def sources(self) -> list[str]:
        return [r["source"] for r in self.rows]

    def outlet_choices(self) -> list[tuple[str, str]]:
        """(name, code) for each outlet in the collection, by name."""
        codes = {r["outlet"] for r in self.rows if r.get("outlet")}
        return sorted(
            ((outlet_name(c, self.outlet_table) or c, c) for c in codes), key=lambda p: p[0].lower()
        )

    def date_range(self) -> tuple[str | None, str | None]:
        dates = sorted(r["date"] for r in self.rows if r.get("date"))
        return (dates[0], dates[-1]) if dates else (None, None)

    def date_note(self) -> str:
        """Where the articles' dates lie, to help pick a range."""
        first, last = self.date_range()
        if not first:
            return "No article carries a date yet."
        return f"Articles are dated {readable_date(first)} to {readable_date(last)}; undated ones are left out by a date filter."

    def table(self) -> list[list[str]]:
        """Rows for the article table: name, outlet, date."""
        rows = (self.names[s] for s in self.sources)
        return [[n.label, n.outlet or "", readable_date(n.date, short=True) or ""] for n in rows]

    def article_choices(self) -> list[tuple[str, str]]:
        return [(self.names[s].label, s) for s in self.sources]

    def summary(self) -> str:
        """One sentence: how many articles, from which outlets, over which dates."""
        n = len(self.rows)
        if not n:
            return "No articles yet: add .txt or .md files below."
        outlets = [name for name, _ in self.outlet_choices()]
        text = f"{n} article{'s' if n != 1 else ''}"
        if outlets:
            text += " from " + _join(outlets)
        first, last = self.date_range()
        dated = sum(1 for r in self.rows if r.get("date"))
        if first:
            span = (
                readable_date(first) if first == last else f"{readable_date(first)} to {readable_date(last)}"
            )
            text += f", dated {span}" + (f" ({dated} of {n} carry a date)" if dated < n else "")
        return text + "."

    def examples(self, answers=None, k: int = 3) -> list[str]:
        """Questions built from the collection, about the people its articles name most often.

        `answers(question) -> bool` (e.g. "the assistant does not refuse it") keeps only questions
        the articles answer; without it the first wording is used.
        """
        key = tuple(sorted((str(r.get("path") or ""), _mtime(r.get("path"))) for r in self.rows))
        return list(_examples(key, k, answers))


def _mtime(path) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except (OSError, TypeError):
        return 0


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


TEMPLATES = ("What did {} say?", "Who did {} meet?", "Who is {}?")


@lru_cache(maxsize=32)
def _examples(files: tuple[tuple[str, int], ...], k: int, answers) -> tuple[str, ...]:
    """Up to `k` questions about the most mentioned people, each a different person."""
    df: Counter[str] = Counter()  # articles naming the person
    total: Counter[str] = Counter()  # mentions in all
    spelling: dict[str, str] = {}
    for path, _ in files:
        try:
            text = Path(path).read_text(encoding="utf-8")[:6000]
        except (OSError, UnicodeDecodeError):
            continue
        mentions = _names(text)
        total.update(_fold(n) for n in mentions)
        found = {_fold(n): n for n in mentions}
        spelling.update({key: name for key, name in found.items() if key not in spelling})
        df.update(found.keys())
    chosen: list[str] = []
    seen: list[str] = []
    ranked = sorted(df, key=lambda key: (-df[key], -total[key], key))
    for key in ranked[: 4 * k]:
        if len(chosen) == k:
            break
        if any(key in s or s in key for s in seen):
            continue
        name = spelling[key]
        turn = len(chosen)
        for template in TEMPLATES[turn % 3 :] + TEMPLATES[: turn % 3]:
            question = template.format(name)
            if answers is None or answers(question):
                chosen.append(question)
                seen.append(key)
                break
    return tuple(chosen)


def _fold(name: str) -> str:
    """A name without accents or case: "Nguyễn Phú Trọng" and "Nguyen Phu Trong" are one person."""
    folded = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()


def _names(text: str) -> list[str]:
    """Runs of two or three capitalised words that look like a person's name."""
    found = []
    for chunk in re.split(r"[^\w\s'’-]+", text):
        current: list[str] = []
        for raw in chunk.split() + [""]:
            word = re.sub(r"['’]s$", "", raw)
            if (
                word
                and word[0].isupper()
                and not word.isupper()
                and "-" not in word
                and word.lower() not in _NOT_NAMES
            ):
                current.append(word)
                if word == raw:  # a possessive ends the name
                    continue
            if 2 <= len(current) <= 3:
                found.append(" ".join(current))
            current = []
    return found


def about_markdown(bot) -> str:
    """The developer details, for the About disclosure."""
    s = bot.stats()
    return (
        f"{s['articles']} articles, {s['passages']} passages  \n"
        f"store: `{s['store']}` (collection `{s['collection']}`)  \n"
        f"answers: {s['answerer']}  \nembedder: {s['embedder']}"
    )


def welcome_html(collection: Collection) -> str:
    lead = f'<p class="lead">{esc(collection.summary())}</p>'
    if not collection.rows:
        return f'<div class="welcome">{lead}</div>'
    hint = (
        '<p class="hint">Ask in your own words: every sentence of an answer is quoted from an article, '
        "and its sources follow it. Or try one of these:</p>"
    )
    return f'<div class="welcome">{lead}{hint}</div>'
