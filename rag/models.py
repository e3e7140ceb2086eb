"""The public, plain data types: what retrieval, answering and ingestion return."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Location:
    """Where the same text stands in another file: `open(path).read()[start:end] == text`."""

    source: str
    start: int
    end: int
    text: str
    outlet: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A retrieved passage: `text` is the source file's text at `[start:end]`, verbatim."""

    id: str
    source: str
    text: str
    start: int
    end: int
    score: float
    title: str | None = None
    date: str | None = None
    outlet: str | None = None
    path: str | None = None
    also_in: tuple[Location, ...] = ()
    similarity: float | None = None  # dense cosine to the query, when the dense ranking found it
    instructions: tuple[tuple[int, int], ...] = ()  # file offsets of sentences that read as instructions to an AI

    @property
    def sources(self) -> tuple[str, ...]:
        """Every file that carries this passage, this one first."""
        return (self.source, *(loc.source for loc in self.also_in))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """One citation: `quote` is the text of `source` at `[start:end]`, verbatim."""

    source: str
    quote: str
    start: int
    end: int
    title: str | None = None
    date: str | None = None
    outlet: str | None = None
    path: str | None = None
    passage: Passage | None = field(default=None, compare=False, repr=False)
    also_in: tuple[Location, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("passage")
        if self.passage is not None:
            d["passage"] = {"start": self.passage.start, "end": self.passage.end, "text": self.passage.text}
        return d


# Confidence is calibrated (of answers at p, about p hold what was asked): below one half an
# extractive answer is more likely to miss the question than to answer it, and the reader is told so.
UNSURE_BELOW = 0.5


def unsure_note(refused: bool, mode: str | None, confidence: float | None) -> str | None:
    """The line shown with an extractive answer more likely to miss the question than to answer it
    (UI, export and CLI alike), or None; a model's reply is verified instead."""
    if refused or (mode or "extractive") != "extractive" or confidence is None or confidence >= UNSURE_BELOW:
        return None
    return (
        f"Not sure this answers what you asked (confidence {confidence:.2f}): these are the closest "
        "sentences in the articles; check the quotes before relying on them."
    )


@dataclass(frozen=True)
class Answer:
    """An answer whose every sentence ends with `[n]`, `n` indexing `citations` from 1."""

    question: str
    text: str
    citations: list[Citation]
    refused: bool
    passages: list[Passage]
    standalone_question: str | None = None
    notice: str | None = None
    unsupported: tuple[int, ...] = ()  # indices (in `text`) of sentences no passage supports (RAG_UNSUPPORTED=flag)
    unsupported_sentences: tuple[str, ...] = ()  # the texts of those sentences (removed from `text` by default)
    mode: str = "extractive"
    confidence: float | None = None  # calibrated probability (0-1) that the answer holds what is asked
    corrected_question: str | None = None  # the question with typos matched to the articles' words
    # The short answer leading `text` (the number, date, name or place asked for): verbatim spans of
    # cited sentences, each a citation of its own (`quote` is the file's text at `[start:end]`).
    leads: tuple[Citation, ...] = ()

    @property
    def short(self) -> Citation | None:
        """The short answer's (first) span citation, or None when the answer has no lead."""
        return self.leads[0] if self.leads else None

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "standalone_question": self.standalone_question,
            "notice": self.notice,
            "unsupported": list(self.unsupported),
            "unsupported_sentences": list(self.unsupported_sentences),
            "mode": self.mode,
            "confidence": self.confidence,
            "corrected_question": self.corrected_question,
            "short": self.short.to_dict() if self.short else None,
            "leads": [c.to_dict() for c in self.leads],
        }


@dataclass
class IngestReport:
    """What one ingest run did; file names are the `source` names used in citations."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    flagged: list[tuple[str, int]] = field(default_factory=list)  # (file, sentences reading as instructions to an AI)
    passages_written: int = 0
    passages_embedded: int = 0  # written passages whose text had no stored embedding yet
    passages_total: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}; "
            f"{self.passages_written} passages written ({self.passages_embedded} embedded), "
            f"{self.passages_total} in store "
            f"({self.seconds:.1f}s)"
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"file": f, "reason": r} for f, r in self.skipped]
        d["flagged"] = [{"file": f, "sentences": n} for f, n in self.flagged]
        return d
