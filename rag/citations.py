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
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return words(a) == words(b)
    return max(containment(sa, sb), containment(sb, sa)) >= SAME_SENTENCE


def copies_of(sentence: Sentence, lexical: LexicalIndex) -> tuple[Location, ...]:
    """The same sentence in other files, located exactly (one location per file).

    Among the passages carrying much of the sentence (best first), the first of each other file
    that holds a sentence `same_sentence` as it: looked up in the index's sentence 5-grams, no
    passage split or hashed here.
    """
    found: dict[str, Location] = {}
    for record, position in lexical.sentence_copies(sentence.text, threshold=0.3, same=SAME_SENTENCE):
        source = record.metadata["source"]
        if source == sentence.passage.source or source in found:
            continue
        start = int(record.metadata["start"])
        s, e = sentence_spans(record.text, start)[position]
        found[source] = Location(source, s, e, record.text[s - start : e - start], record.metadata.get("outlet"))
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
