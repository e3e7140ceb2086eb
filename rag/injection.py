"""Instruction-like text in articles: sentences written to steer an AI model, not to inform a reader.

News prose reports what people said and did; it does not address "you, the assistant", tell a
reader to ignore earlier instructions, talk about system prompts, or carry a chat template's
role markers. Such a sentence in an article is almost certainly a planted prompt injection.
Ingest records the offsets of every such sentence in the passage's metadata (`instructions`);
the extractive reader never answers from them, and a model's answer that rests on one is
withheld (see `rag.generate.verify`).

A sentence is flagged when it shows one of the signs below that news prose does not use
(each is checked on the demo articles and the SQuAD articles, where nothing is flagged):

- an override: ignore / disregard / forget / override + earlier instructions, rules or prompts;
- a chat template's role or instruction markers (`<|im_start|>`, `[INST]`, `### System:`, `<system>` …);
- talk about a system prompt, or a jailbreak mode ("developer mode", "DAN");
- an AI addressed in the second person ("you are an AI", "as an AI language model, you …",
  "assistant, reply …", "note to AI"), or told what to output ("reply only with", "respond with
  exactly", "output the following", "say that …" aimed at an assistant or model).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from rag.text import fold

_AI = r"(?:ai|a\.i\.|assistant|chat ?bot|language model|llm|gpt|model|bot)"
_SIGNS = (
    # overrides of earlier instructions
    re.compile(
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.!?]{0,40}?\b(?:previous|prior|above|earlier|"
        r"preceding|all|any|your|the|these|those|other)\b[^.!?]{0,30}?\b(?:instructions?|rules?|prompts?|"
        r"directions?|guidelines?|guardrails?|context|messages?)\b"
    ),
    # chat templates and role markers
    re.compile(r"<\|?(?:im_start|im_end|system|endoftext)\|?>|\[/?inst\]|<<sys>>|^\s*#{2,}\s*(?:system|instruction)s?\b"
               r"|^\s*(?:system|assistant)\s*:|</?system>"),
    # system prompts and jailbreak modes
    re.compile(r"\bsystem prompt\b|\bdeveloper mode\b|\bjailbreak\b|\bdo anything now\b"),
    # an AI addressed directly
    re.compile(rf"\byou are (?:now )?(?:an?|the) {_AI}\b|\bas an? {_AI}\b[^.!?]{{0,40}}\byou\b|"
               rf"\b(?:note|message|instruction)s? (?:to|for) (?:the |any )?{_AI}s?\b|"
               rf"\b(?:dear|attention|hey) {_AI}\b|\b{_AI}s? (?:reading|processing|summari[sz]ing|answering from) (?:this|these)\b|\b{_AI}s?,? (?:must|should) (?:now )?(?:reply|respond|answer|say|output|state)\b"),
    # output commands
    re.compile(r"\b(?:reply|respond|answer|output|print|say|write)\b[^.!?]{0,15}?\b(?:only|exactly|verbatim)\b"
               r"[^.!?]{0,15}?\b(?:with|the following|this|that|:)|\b(?:reply|respond|answer) with only\b"),
)


def is_instruction(sentence: str) -> bool:
    """True when `sentence` reads as an instruction to an AI model rather than as news prose."""
    text = fold(sentence)
    return any(sign.search(text) for sign in _SIGNS)


def instruction_spans(text: str, offset: int = 0) -> tuple[tuple[int, int], ...]:
    """The (start, end) of every instruction-like sentence of `text`, shifted by `offset`."""
    if not is_instruction(text):  # nearly every passage: no sentence split needed
        return ()
    from rag.documents import sentence_spans  # the splitter (punkt) loads only when a sign is found

    out = []
    for s, e in sentence_spans(text, offset):
        if is_instruction(text[s - offset : e - offset]):
            out.append((s, e))
    return tuple(out)


def warning(name: str, count: int) -> str:
    """What ingest tells the user about a file with `count` flagged sentences (`name` already escaped)."""
    s = "s" if count > 1 else ""
    return f"{name}: {count} sentence{s} read{'' if s else 's'} as instructions to an AI model; answers never rest on them"


def to_metadata(spans: Iterable[tuple[int, int]]) -> str:
    """Spans as a Chroma metadata value (a JSON string: metadata values must be scalars)."""
    return json.dumps([list(span) for span in spans])


def from_metadata(value: object) -> tuple[tuple[int, int], ...] | None:
    """Spans stored by `to_metadata`; None when the value is absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        spans = json.loads(value)
        return tuple((int(s), int(e)) for s, e in spans)
    except (ValueError, TypeError):
        return None


def overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)
