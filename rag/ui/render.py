"""HTML for the conversation: each question, its answer and, right under it, that answer's sources.

Everything from an article or a model is HTML-escaped here; the only markup is ours. `[n]` in an
answer is a link to source card n of the same turn (the page's script opens and highlights it).
A turn is a plain dict: {"question": str, "answer": Answer.to_dict() or None, "partial": str}.
"""

from __future__ import annotations

import html
import re

from rag import models
from rag.article_names import ArticleName, name_article, readable_date

REFUSAL_MARK = "🚫 "
UNSUPPORTED_MARK = "⚠ not supported by the articles: "


def unsure_note(answer: dict) -> str | None:
    """`rag.models.unsure_note` for an answer as a dict (`Answer.to_dict()`)."""
    return models.unsure_note(bool(answer.get("refused")), answer.get("mode"), answer.get("confidence"))


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def article_name(c: dict, names: dict[str, ArticleName]) -> ArticleName:
    """The name of a citation's article: from the collection's names, else from the citation itself."""
    known = names.get(c["source"])
    if known is not None:
        return known
    return name_article(c["source"], c.get("title"), c.get("date"), c.get("outlet"), c.get("path"))


def answer_html(text: str, turn: int, cited: int) -> str:
    """The answer's text, escaped, with each `[n]` (n a citation of this turn) a link to its card."""

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if not 1 <= n <= cited:
            return m.group(0)
        return (
            f'<a class="cite" href="#src-{turn}-{n}" data-card="src-{turn}-{n}" title="source {n}">[{n}]</a>'
        )

    return re.sub(r"\[(\d+)\]", link, esc(text))


def split_lead(answer: dict) -> tuple[str | None, str]:
    """(the answer's lead line, the rest) when it opens with one (`**2.2 million** [1]`), else (None, text)."""
    text = answer["answer"]
    if answer.get("leads") and "\n" in text:
        first, rest = text.split("\n", 1)
        return first, rest
    return None, text


def notes_html(answer: dict) -> str:
    """The one-line notice (e.g. the language model failed) and the unsupported sentences, if any."""
    parts = []
    if answer.get("notice"):
        parts.append(f'<div class="notice">ℹ {esc(answer["notice"])}</div>')
    for sentence in answer.get("unsupported_sentences") or []:
        parts.append(f'<div class="unsupported">{UNSUPPORTED_MARK}“{esc(sentence)}”</div>')
    return "\n".join(parts)


def card_html(c: dict, n: int, turn: int, names: dict[str, ArticleName]) -> str:
    """One source card: the article's name, outlet and date, its passage with the quote marked,
    and in small print the file, the offsets and a button opening the article there."""
    name = article_name(c, names)
    passage = c.get("passage") or {"text": c["quote"], "start": c["start"]}
    offset = c["start"] - passage["start"]
    before, after = passage["text"][:offset], passage["text"][offset + len(c["quote"]) :]
    also = ""
    if c.get("also_in"):
        others = ", ".join(
            esc(article_name(loc, names).label) + f' <span class="file">{esc(loc["source"])}</span>'
            for loc in c["also_in"]
        )
        also = f'<div class="also">also in {others}</div>'
    byline = f'<span class="byline">{esc(name.byline)}</span>' if name.byline else ""
    return (
        f'<div class="citation" id="src-{turn}-{n}">'
        f'<div class="card-head"><span class="n">[{n}]</span> <strong class="art-title">{esc(name.label)}</strong> '
        f"{byline}</div>"
        f'<div class="passage">{esc(before)}<mark>{esc(c["quote"])}</mark>{esc(after)}</div>{also}'
        f'<div class="where"><span class="file">{esc(c["source"])}</span> · chars {c["start"]}–{c["end"]} '
        f'<button type="button" class="open-article" data-source="{esc(c["source"])}" '
        f'data-start="{c["start"]}" data-end="{c["end"]}">Open the article here</button></div>'
        "</div>"
    )


def sources_html(answer: dict, turn: int, names: dict[str, ArticleName], latest: bool = False) -> str:
    """The notes and the sources of one answer, in a disclosure open by default."""
    notes = notes_html(answer)
    ident = ' id="sources"' if latest else ""
    if answer.get("refused"):
        refusal = '<div class="refusal"><strong>Not in the articles.</strong> Nothing is cited.</div>'
        return f'<div class="sources"{ident}>{notes}{refusal}</div>'
    cites = answer.get("citations") or []
    if not cites:
        return f'<div class="sources"{ident}>{notes}</div>' if notes else ""
    cards = "\n".join(card_html(c, n, turn, names) for n, c in enumerate(cites, 1))
    label = f"Sources ({len(cites)})" if len(cites) > 1 else "Source"
    return (
        f'<div class="sources"{ident}>{notes}<details class="source-list" open>'
        f"<summary>{label}</summary>{cards}</details></div>"
    )


def turn_html(t: dict, turn: int, names: dict[str, ArticleName], latest: bool) -> str:
    question = f'<div class="q"><span class="who">You asked</span> {esc(t["question"])}</div>'
    answer = t.get("answer")
    if answer is None:
        typing = esc(t.get("partial") or "") or '<span class="thinking">Reading the articles…</span>'
        return f'<div class="turn streaming" id="turn-{turn}">{question}<div class="a">{typing}</div></div>'
    if answer.get("refused"):
        body = f'<div class="a refused">{esc(REFUSAL_MARK + answer["answer"])}</div>'
    else:
        cited = len(answer.get("citations") or [])
        lead, rest = split_lead(answer)
        body = f'<div class="a">{answer_html(rest, turn, cited)}</div>'
        if lead:  # the number, date or name asked for, first and in bold (Answer.short)
            bold = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", answer_html(lead, turn, cited))
            body = f'<div class="a short">{bold}</div>{body}'
        if note := unsure_note(answer):
            body += f'<div class="unsure">⚠ {esc(note)}</div>'
    sources = sources_html(answer, turn, names, latest)
    return f'<div class="turn" id="turn-{turn}">{question}{body}{sources}</div>'


def conversation_html(turns: list[dict], names: dict[str, ArticleName]) -> str:
    """The whole conversation; the latest answer's sources carry id="sources"."""
    if not turns:
        return '<div class="empty">Your questions, their answers and each answer’s sources appear here.</div>'
    last = len(turns) - 1
    return "\n".join(turn_html(t, i + 1, names, i == last) for i, t in enumerate(turns))


def article_view_html(
    text: str, name: ArticleName | None, start: int | None = None, end: int | None = None
) -> str:
    """An article's full text, escaped, with [start:end] marked (the passage a source card cites)."""
    head = ""
    if name is not None:
        byline = f' <span class="byline">{esc(name.byline)}</span>' if name.byline else ""
        head = (
            f'<div class="card-head"><strong class="art-title">{esc(name.label)}</strong>{byline} '
            f'<span class="file">{esc(name.source)}</span></div>'
        )
    if start is not None and end is not None and 0 <= start < end <= len(text):
        body = f'{esc(text[:start])}<mark id="cited">{esc(text[start:end])}</mark>{esc(text[end:])}'
    else:
        body = esc(text)
    return f'<div class="article">{head}<div class="article-text">{body}</div></div>'


def export_markdown(turns: list[dict], names: dict[str, ArticleName]) -> str:
    """The conversation as Markdown: each answer, then its citations named by title, outlet and date,
    with the file and offsets for checking."""
    lines = ["# Conversation", ""]
    for t in turns:
        answer = t.get("answer")
        if answer is None:
            continue
        lines += [f"**Q:** {t['question']}", ""]
        lead, rest = split_lead(answer)
        if lead:  # the lead is Markdown already: **2.2 million** [1]
            lines += [f"**A:** {lead}", "", rest, ""]
        else:
            lines += [f"**A:** {(REFUSAL_MARK if answer.get('refused') else '') + answer['answer']}", ""]
        if note := unsure_note(answer):
            lines += [f"*{note}*", ""]
        for i, c in enumerate(answer.get("citations") or [], 1):
            name = article_name(c, names)
            about = " · ".join(x for x in (name.outlet, readable_date(name.date)) if x)
            lines.append(
                f"{i}. *{_md(name.label)}*{' — ' + _md(about) if about else ''} "
                f"(`{c['source']}` [{c['start']}:{c['end']}]): “{c['quote']}”"
            )
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text shown literally inside Markdown emphasis: no HTML, links or images."""
    return re.sub(r"([\\`*_\[\]()!|~<>&])", r"\\\1", text)
