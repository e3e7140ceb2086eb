"""Answerers turn a question and retrieved passages into an `Answer` with one citation per sentence.

`ExtractiveAnswerer` (the offline default) answers with the retrieved sentences the fitted reader
(`rag/reader.py`) scores as holding the answer, and refuses when the reader's calibrated confidence
is below the operating point (`RAG_MIN_CONFIDENCE`). Any other answerer (an LLM) fits beside it by
implementing `Answerer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from rag.citations import Sentence, cite
from rag.models import Answer, Citation, Passage
from rag.question import Question
from rag.reader import Reader

REFUSAL = "The articles don't cover this: I found nothing in them that answers the question."


class Answerer(Protocol):
    """Anything that answers a question from passages, citing them (extractive, LLM ...)."""

    name: str

    def answer(self, question: Question, passages: list[Passage]) -> Answer: ...

    def stream(self, question: Question, passages: list[Passage]) -> Iterator[str | Answer]: ...


def compose(
    question: Question, picked: list[Sentence], passages: list[Passage], lexical, mode: str, confidence=None
) -> Answer:
    """Join the picked sentences into an answer, each followed by its citation marker."""
    citations: list[Citation] = [cite(s, lexical) for s in picked]
    text = " ".join(f"{c.quote} [{i}]" for i, c in enumerate(citations, 1))
    return Answer(
        question=question.text,
        text=text,
        citations=citations,
        refused=False,
        passages=passages,
        standalone_question=question.standalone,
        mode=mode,
        confidence=confidence,
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
