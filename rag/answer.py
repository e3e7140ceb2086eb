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
from rag.short_answer import Span, antecedent, lead, wanted_kind, who

REFUSAL = "The articles don't cover this: I found nothing in them that answers the question."


class Answerer(Protocol):
    """Anything that answers a question from passages, citing them (extractive, LLM ...)."""

    name: str

    def answer(self, question: Question, passages: list[Passage]) -> Answer: ...

    def stream(self, question: Question, passages: list[Passage]) -> Iterator[str | Answer]: ...


def explained(picked: list[Sentence]) -> list[tuple[Span | Sentence | None, Sentence]]:
    """Each picked sentence with what explains the pronoun it opens with, if anything: for "He"/"She",
    the name of the person meant (a span of the sentence before) when the passage makes it plain;
    for the answer's first sentence, otherwise, the sentence before it, whole ("They ...", "That
    was ..."): an answer never opens with a pronoun it does not explain. Later sentences get no
    whole sentence before them, which would make the answer much longer for a word of context."""
    out: list[tuple[Span | Sentence | None, Sentence]] = []
    for i, s in enumerate(picked):
        before = who(s)
        if before is None and i == 0:
            before = antecedent(s)
            if before is not None and any(_same_sentence(before, o) for o in picked):
                before = None
        out.append((before, s))
    return out


def _same_sentence(a: Sentence, b: Sentence) -> bool:
    return a.passage.source == b.passage.source and a.start == b.start and a.end == b.end


def span_citation(span: Span) -> Citation:
    """The citation of a span of a sentence (a short answer, a name): the sentence's file and metadata."""
    return replace(cite(span.sentence), quote=span.text, start=span.start, end=span.end)


def compose(
    question: Question, picked: list[Sentence], passages: list[Passage], lexical, mode: str, confidence=None
) -> Answer:
    """Join the picked sentences into an answer, each followed by its citation marker; when the
    question asks for a number, date, name or place, the answer opens with it (rag.short_answer)."""
    citations: list[Citation] = []
    parts: list[str] = []
    sentences: list[Sentence] = []  # the quoted sentences, in order
    numbers: list[int] = []  # each one's citation number
    for before, sentence in explained(picked):
        if isinstance(before, Span):  # "(He: Pham Minh Chinh [2])" before the sentence saying "He ..."
            citations.append(span_citation(before))
            pronoun = sentence.text.split()[0]
            parts.append(f"({pronoun}: {before.text} [{len(citations)}])")
        for quoted in (before, sentence) if isinstance(before, Sentence) else (sentence,):
            citations.append(cite(quoted, lexical))
            sentences.append(quoted)
            numbers.append(len(citations))
            parts.append(f"{quoted.text} [{len(citations)}]")
    text = " ".join(parts)
    leads: list[Citation] = []
    marks: list[str] = []
    # The articles' lower-case words tell a name from a title's field; only names need them, and a
    # large store builds them once, on first use, so a question asking for a figure never waits.
    lower = lexical.lower_words if lexical is not None and wanted_kind(question) == "name" else frozenset()
    for span in lead(question, sentences, confidence, lower=lower):
        n = numbers[next(j for j, s in enumerate(sentences) if s is span.sentence)]
        leads.append(span_citation(span))
        marks.append(f"**{span.text}** [{n}]")
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
