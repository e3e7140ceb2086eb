"""What the collection holds, as the page shows it: names, outlets, date range, example questions."""

from __future__ import annotations

import re
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
    december washington hanoi hà nội new york dc asia pacific asean china chinese american vietnamese""".split()
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

    def table(self) -> list[list[str]]:
        """Rows for the article table: name, outlet, date."""
        return [[n.label, n.outlet or "", n.date or ""] for n in (self.names[s] for s in self.sources)]

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

    def examples(self, k: int = 3) -> list[str]:
        """Questions built from the collection: about the people its articles name most often."""
        paths = tuple(sorted(str(r.get("path") or "") for r in self.rows))
        return list(_examples(paths, k))


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@lru_cache(maxsize=32)
def _examples(paths: tuple[str, ...], k: int) -> tuple[str, ...]:
    """Up to `k` questions about the most mentioned people (names of two or three capitalised words)."""
    df: Counter[str] = Counter()
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")[:6000]
        except (OSError, UnicodeDecodeError):
            continue
        df.update(set(_names(text)))
    people = [name for name, count in df.most_common() if count >= 1]
    chosen: list[str] = []
    for name in people:
        if any(name in c or c in name for c in chosen):
            continue
        chosen.append(name)
        if len(chosen) == k:
            break
    templates = ("What did {} say?", "Who did {} meet?", "What did {} ask for?")
    return tuple(templates[i % len(templates)].format(n) for i, n in enumerate(chosen))


def _names(text: str) -> list[str]:
    """Runs of two or three capitalised words that look like a person's name."""
    found = []
    for run in re.findall(r"(?:\b[^\W\d_][\w'’-]*(?:\s+|$))+", text):
        words = run.split()
        current: list[str] = []
        for w in words + [""]:
            if w and w[0].isupper() and not w.isupper() and w.lower().strip("'’") not in _NOT_NAMES:
                current.append(w)
                continue
            if 2 <= len(current) <= 3:
                found.append(" ".join(current))
            current = []
    return found


def status_markdown(bot, collection: Collection) -> str:
    return f"**{collection.summary()}**"


def about_markdown(bot) -> str:
    """The developer details, for the About disclosure."""
    s = bot.stats()
    return (
        f"{s['articles']} articles, {s['passages']} passages  \n"
        f"store: `{s['store']}` (collection `{s['collection']}`)  \n"
        f"answers: {s['answerer']}  \nembedder: {s['embedder']}"
    )


def welcome_html(collection: Collection) -> str:
    return f'<div class="welcome"><p class="lead">{esc(collection.summary())}</p></div>'
