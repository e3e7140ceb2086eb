"""Answerers turn a question and retrieved passages into an `Answer` with one citation per sentence.

`ExtractiveAnswerer` (the offline default) answers with the retrieved sentences the fitted reader
(`rag/reader.py`) scores as holding the answer, and refuses when the reader's calibrated confidence
is below the operating point (`RAG_MIN_CONFIDENCE`). Any other answerer (an LLM) fits beside it by
implementing `Answerer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Protocol

from rag.citations import Sentence, cite
from rag.models import Answer, Citation, Passage
from rag.question import Question
from rag.reader import Reader
from rag.short_answer import Span, antecedent, lead

REFUSAL = "The articles don't cover this: I found nothing in them that answers the question."


class Answerer(Protocol):
    """Anything that answers a question from passages, citing them (extractive, LLM ...)."""

    name: str

    def answer(self, question: Question, passages: list[Passage]) -> Answer: ...

    def stream(self, question: Question, passages: list[Passage]) -> Iterator[str | Answer]: ...


def with_antecedents(picked: list[Sentence]) -> list[Sentence]:
    """The picked sentences, each that opens with an unexplained "He"/"That ..." preceded by the
    sentence of its passage that says who or what that is (once)."""
    out: list[Sentence] = []
    for s in picked:
        before = antecedent(s)
        if before is not None and not any(_same_span(before, o) for o in (*out, *picked)):
            out.append(before)
        if not any(_same_span(s, o) for o in out):
            out.append(s)
    return out


def _same_span(a: Sentence, b: Sentence) -> bool:
    return a.passage.source == b.passage.source and a.start == b.start and a.end == b.end


def lead_citation(span: Span, citation: Citation) -> Citation:
    """The citation of a short-answer span: the cited sentence's file, metadata and passage."""
    return replace(citation, quote=span.text, start=span.start, end=span.end, also_in=())


def compose(
    question: Question, picked: list[Sentence], passages: list[Passage], lexical, mode: str, confidence=None
) -> Answer:
    """Join the picked sentences into an answer, each followed by its citation marker; when the
    question asks for a number, date, name or place, the answer opens with it (rag.short_answer)."""
    sentences = with_antecedents(picked)
    citations: list[Citation] = [cite(s, lexical) for s in sentences]
    text = " ".join(f"{c.quote} [{i}]" for i, c in enumerate(citations, 1))
    leads: list[Citation] = []
    marks: list[str] = []
    for span in lead(question, sentences, confidence):
        n = next(i for i, s in enumerate(sentences) if s is span.sentence)
        leads.append(lead_citation(span, citations[n]))
        marks.append(f"**{span.text}** [{n + 1}]")
    if marks:
        text = ", ".join(marks) + "\n" + text
    return Answer(
        question=question.text,
        text=text,
        citations=citations,
        refused=False,
        passages=passages,
        standalone_question=question.standalone,
        mode=mode,
        confidence=confidence,
        leads=tuple(leads),
    )


def refusal(
    question: Question, passages: list[Passage], mode: str, reason: str | None = None, confidence=None
) -> Answer:
    """An answer that declines, naming the missing name or number when there is one."""
    return Answer(
        question=question.text,
        text=REFUSAL if not reason else f"{REFUSAL} ({reason})",
        citations=[],
        refused=True,
        passages=passages,
        standalone_question=question.standalone,
        mode=mode,
        confidence=confidence,
    )


class ExtractiveAnswerer:
    """Composes an answer from the retrieved sentences that answer the question (no LLM)."""

    name = "extractive"

    def __init__(self, lexical, reader: Reader, min_confidence: float | None = None) -> None:
        self.lexical = lexical
        self.reader = reader
        model_default = reader.model["select"]["min_confidence"]
        self.min_confidence = model_default if min_confidence is None else min_confidence

    def stream(self, question: Question, passages: list[Passage], history_quotes=()) -> Iterator[str | Answer]:
        answer = self.answer(question, passages, history_quotes)
        yield answer.text
        yield answer

    def answer(self, question: Question, passages: list[Passage], history_quotes=()) -> Answer:
        """The cited sentences that answer `question`, or a refusal."""
        if not passages:
            return refusal(question, passages, self.name, confidence=0.0)
        reading = self.reader.read(question, passages, tuple(history_quotes))
        confidence = round(reading.confidence, 3)
        if not reading.picked or reading.confidence < self.min_confidence:
            reason = f"no mention of {', '.join(reading.missing)}" if reading.missing else None
            return refusal(question, passages, self.name, reason, confidence)
        sentences = [c.sentence for c in reading.picked]
        return compose(question, sentences, passages, self.lexical, self.name, confidence)
