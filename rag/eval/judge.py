"""`--judge openai`: an optional LLM judge of answer correctness, next to the offline metrics.

For every answerable, answered item the model sees the question, the reference answer and the
chatbot's answer (citation markers stripped) and replies YES or NO: does the answer state the
reference's key information without contradicting it? Refusals score 0; unanswerable items are
left to the refusal metrics. Needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.errors import RagError

PROMPT = (
    "You grade answers of a question-answering system over news articles.\n"
    "Question: {question}\nReference answer: {reference}\nSystem answer: {answer}\n\n"
    "Does the system answer state the key information of the reference answer, without contradicting "
    "it? Extra correct detail is fine. Reply with exactly one word: YES or NO."
)
_MARKERS = re.compile(r"\s*\[\d+\]")


class OpenAIJudge:
    name = "openai"

    def __init__(self, settings) -> None:
        if not (settings.openai_api_key or settings.openai_base_url):
            raise RagError(
                "--judge openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server); "
                "set one, or run without --judge"
            )
        from openai import OpenAI

        self.model = settings.openai_model
        self.client = OpenAI(
            api_key=settings.openai_api_key or "unused", base_url=settings.openai_base_url
        )

    def correct(self, question: str, reference: str, answer: str) -> bool:
        prompt = PROMPT.format(
            question=question, reference=reference, answer=_MARKERS.sub("", answer)
        )
        try:
            reply = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0,
                max_tokens=3,
            )
        except Exception as exc:  # the openai client raises many types
            raise RagError(
                f"the OpenAI judge failed: {type(exc).__name__}: {exc}".splitlines()[0]
            ) from None
        text = (reply.choices[0].message.content or "").strip().upper()
        return text.startswith("YES")

    def score(self, rows: Sequence[dict]) -> dict:
        """Adds `judge_correct` to each answerable row; returns overall and per-type accuracy."""
        for r in rows:
            if not r["answerable"]:
                continue
            r["judge_correct"] = (not r["refused"]) and self.correct(
                r["standalone_question"] or r["question"], r["reference"], r["answer"]
            )
        judged = [r for r in rows if "judge_correct" in r]
        by_type: dict[str, list[bool]] = {}
        for r in judged:
            by_type.setdefault(r["type"], []).append(r["judge_correct"])
        return {
            "judge": f"openai:{self.model}",
            "rule": "YES/NO correctness against the reference; refusals of answerable items count as wrong",
            "accuracy": sum(r["judge_correct"] for r in judged) / len(judged) if judged else None,
            "by_type": {t: sum(v) / len(v) for t, v in sorted(by_type.items())},
        }
