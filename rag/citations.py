"""Citations: a sentence of a passage, its exact offsets in the file, and the other files carrying it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.documents import sentence_spans
from rag.lexical import LexicalIndex, containment, shingles
from rag.models import Citation, Location, Passage
from rag.text import words

SAME_SENTENCE = 0.6


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, with its offsets in the passage's file."""

    text: str
    start: int
    end: int
    passage: Passage
    rank: int
    index: int  # position inside the passage


def sentences_of(passage: Passage, rank: int) -> list[Sentence]:
    out = []
    for i, (s, e) in enumerate(sentence_spans(passage.text, passage.start)):
        out.append(Sentence(passage.text[s - passage.start : e - passage.start], s, e, passage, rank, i))
    return out


def same_sentence(a: str, b: str) -> bool:
    """Two sentences are the same when most of either's word 5-grams occur in the other."""
    return _same(a, shingles(a), b)


def _same(a: str, sa: set, b: str) -> bool:
    """`same_sentence(a, b)` with `a`'s shingles `sa` computed once by the caller."""
    sb = shingles(b)
    if not sa or not sb:
        return words(a) == words(b)
    return max(containment(sa, sb), containment(sb, sa)) >= SAME_SENTENCE


def copies_of(sentence: Sentence, lexical: LexicalIndex) -> tuple[Location, ...]:
    """The same sentence in other files, located exactly (one location per file)."""
    found: dict[str, Location] = {}
    mine = shingles(sentence.text)  # once, not once per sentence of every candidate passage
    for record, _ in lexical.copies(sentence.text, threshold=0.3):
        source = record.metadata["source"]
        if source == sentence.passage.source or source in found:
            continue
        start = int(record.metadata["start"])
        for s, e in sentence_spans(record.text, start):
            text = record.text[s - start : e - start]
            if _same(sentence.text, mine, text):
                found[source] = Location(source, s, e, text, record.metadata.get("outlet"))
                break
    return tuple(found.values())


def cite(sentence: Sentence, lexical: LexicalIndex | None = None) -> Citation:
    p = sentence.passage
    return Citation(
        source=p.source,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        title=p.title,
        date=p.date,
        outlet=p.outlet,
        path=p.path,
        passage=p,
        also_in=copies_of(sentence, lexical) if lexical is not None else (),
    )


def is_verbatim(citation: Citation | Location, path: str | Path) -> bool:
    """True when the file at `path` has exactly `quote` at `[start:end]`."""
    quote = citation.quote if isinstance(citation, Citation) else citation.text
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return False
    return text[citation.start : citation.end] == quote
