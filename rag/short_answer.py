"""The short answer that leads an answer: the number, date, name or place asked for, quoted.

For a question that asks for a figure, a date, a person, a place or a list of named things, every
span of that kind in the answer's cited sentences is a candidate (figures with their scale and unit,
dates and date ranges, runs of capitalised words). A logistic model fitted on labelled questions
(`python -m rag.fit_short_answer`, parameters in `rag/short_answer_model.json`) scores each from general
evidence: how close it stands to the question's words, whether the question already names it,
whether the other cited sentences agree, whether its unit is the one asked for. The best candidate
leads the answer when its probability reaches the fitted operating point; otherwise there is no lead
(a wrong lead is worse than none). A lead is a verbatim span of a cited sentence, with its offsets.

A cited sentence that opens with "He", "She", "They" or "That was ..." does not say who or what it
means: `who` finds who a "He"/"She" stands for (the name or title quoted from the sentence before, a
citation of its own) and who a "They" are (two people named together, or a plural title), and
`antecedent` the sentence before it that says who or what, quoted whole when `who` finds nothing plain.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.citations import Sentence, sentences_of
from rag.documents import is_heading, sentence_spans
from rag.question import (
    DAY_OF_MONTH,
    NOT_NAMES,
    NUMBER_WORDS,
    OFFICE_WORDS,
    ORG_WORDS,
    TITLE_WORDS,
    YEAR_DIGITS,
    Question,
    is_setting,
    person_names,
    quantity_pattern,
)
from rag.text import STOPWORDS, fold, lower_case_words, stem, terms, words

MODEL_PATH = Path(__file__).with_name("short_answer_model.json")
MAX_LIST = 5  # names listed at most, for a question asking for several
ANTECEDENT_REACH = 3  # sentences looked back for the name a pronoun stands for

FEATURES = (
    "kind_figure", "kind_date", "kind_name", "dist", "adjacent", "after", "no_q_term", "first",
    "alternatives", "agree", "unit_fit", "scale", "precise_date", "title_before", "prep_before",
    "multiword", "partial_q", "position", "confidence", "window_cov", "in_sentence", "focus_dist",
)
WINDOW = 8  # tokens either side of a candidate in which the question's words count as its context

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan\\.?|Feb\\.?|Mar\\.?|Apr\\.?|Jun\\.?|Jul\\.?|Aug\\.?|Sept?\\.?|Oct\\.?|Nov\\.?|Dec\\.?"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2}|[1-9][0-9]{0,2}\s?(?:BC|BCE|AD|CE))s?"
_ONE_DATE = (
    rf"(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})(?:,?\s+{_YEAR})?"
    rf"|(?:{_MONTHS})(?:,?\s+{_YEAR})?"
    rf"|(?:(?:early|mid|late)[- ])?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)[- ]century"
    rf"|{_YEAR}"
    rf"|(?:{_WEEKDAYS}))"
)
_DATE = re.compile(
    rf"(?<![\w$])(?:{_ONE_DATE})(?:\s*(?:-|–|—|to|until|through|and)\s*(?:{_ONE_DATE}|\d{{1,2}}(?![\d,.]\d)(?!\w)))?(?!\w)"
)
_MODIFIER = r"(?:(?:more|less|fewer) than|over|about|around|nearly|almost|some|up to|at least|approximately|roughly|only)\s+"
_SCALE = r"(?:hundred|thousand|million|billion|trillion|bn|m|mn)"
_FIGURE = re.compile(
    rf"(?<![\w.])(?:{_MODIFIER})?(?:(?:US)?\$|€|£|¥)?\s?"
    rf"(?:\d[\d,.]*\d|\d|{NUMBER_WORDS}(?:[- ]{NUMBER_WORDS})*)"
    rf"(?:\s?(?:%|per ?cent))?(?:[- ]{_SCALE})?(?![\w])",
    re.I,
)
_WORD = re.compile(r"(?<![\w’'-])[^\W\d_][\w’'-]*(?:\.\w+)*")
_CONNECTORS = frozenset("of de la von van der du da di al bin".split())
_FULL_MONTHS = re.compile(
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    rf"{_WEEKDAYS})$"
)
_TOKEN = re.compile(r"[\w$€£%]+(?:[-'’.,][\w]+)*")
_PREPS = frozenset("in at from to into near across throughout".split())
_PEOPLE = re.compile(r"\b(officials|leaders|people|persons|ministers|presidents|members|figures|diplomats|envoys)\b")
_NAMED_LISTS = re.compile(
    r"\b(officials|leaders|people|persons|countries|nations|states|cities|parties|organi[sz]ations|"
    r"agencies|companies|members|ministers|presidents|figures|groups|tribes|empires|powers)\b"
)
# "He ...", "They ..." and "That was ..." stand for someone or something the sentence does not name.
_PRONOUN_START = re.compile(r"^(?:He|She|They|His|Her|Their)\b|^That\s+(?:is|was)\b")


@dataclass(frozen=True)
class Span:
    """A candidate short answer: `text` is the file's text at `[start:end]` (inside `sentence`)."""

    sentence: Sentence
    start: int
    end: int
    text: str
    kind: str  # "figure", "date", "name"; "who" for the person a "He" stands for
    features: tuple[float, ...] = ()
    prob: float = 0.0


def wanted_kind(question: Question) -> str | None:
    """The kind of span the question asks for, or None when a short answer would not help."""
    qtype = question.qtype
    if qtype in ("number", "percent"):
        return "figure"
    if qtype == "date":
        return "date"
    if qtype in ("person", "place"):
        return "name"
    if qtype == "list" and _NAMED_LISTS.search(fold(question.text)):
        return "name"
    return None


def wants_several(question: Question) -> bool:
    """A list question, or a who-question whose answer may name several people ("Who did Blinken
    meet?", not "Who is ...?" nor a keyword query such as "foreign minister name")."""
    q = fold(question.text)
    return question.qtype == "list" or (
        question.qtype == "person" and bool(re.match(r"(?:and |so |then )?whom?\b", q)) and not re.search(r"\b(is|was)\b", q)
    )


def _unit(question: Question) -> str | None:
    """For "how many X" or "how long", a pattern for a figure in the unit asked for ("six years")."""
    q = fold(question.text)
    many = re.search(r"\bhow many((?:\s+[\w'-]+){1,4})", q)
    if not many:
        return quantity_pattern(question)  # "how long": years, months, days ...
    after = [w for w in many.group(1).split() if w not in STOPWORDS and "'" not in w]
    noun = next((w for w in after if w.endswith("s") and not w.endswith("ss")), after[0] if after else "")
    if not noun:
        return None
    unit = re.escape(re.sub(r"(?<=\w\w)(e?s)$", "", noun)) + r"\w*"
    return rf"(?:\d[\d.,]*|{NUMBER_WORDS})\s+(?:[\w-]+\s+)?{unit}\b"


# --- candidates -----------------------------------------------------------------------------------


def _spans(kind: str, text: str, question: Question, lower: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """(start, end) offsets in `text` of the spans of `kind` (`lower`: words known in lower case)."""
    out = []
    if kind == "date":
        weekday = bool(re.search(r"\bday of the week\b|\bweekday\b", fold(question.text)))
        for m in _DATE.finditer(text):
            s, e = m.span()
            piece = m.group(0)
            if re.fullmatch(r"(?:May|March)", piece) and not re.search(r"\b(?:in|of|since|until|by)\s+$", text[:s]):
                continue  # "may", "march" as words
            if weekday and not re.fullmatch(_WEEKDAYS, piece):
                continue  # "What day of the week ...?" asks "Saturday", not "April 15"
            out.append((s, e))
    elif kind == "figure":
        masked = DAY_OF_MONTH.sub(lambda m: " " * len(m.group(0)), text)
        for m in _FIGURE.finditer(masked):
            s, e = m.span()
            piece = text[s:e].strip()
            s += len(text[s:e]) - len(text[s:e].lstrip())
            core = re.sub(rf"^{_MODIFIER}", "", piece, flags=re.I)
            if question.qtype == "percent" and not re.search(r"%|per ?cent", piece, re.I):
                continue
            if re.fullmatch(YEAR_DIGITS, core) or core.lower() in ("one", "m"):
                continue  # a year is a date; "one" is mostly a pronoun
            if fold(core) in {fold(n) for n in question.numbers}:
                continue
            if not core[:1].isdigit() and re.search(r"\b(?:the|both|these|those)\s+$", text[:s], re.I):
                continue  # "the two countries" refers, it does not count
            out.append((s, s + len(piece)))
        unit = _unit(question)
        if unit:  # "more than six years", "the 10th anniversary": the figure with the unit asked for
            for m in re.finditer(unit, text, re.I):
                overlapping = [(a, b) for a, b in out if a < m.end() and b > m.start()]
                out = [x for x in out if x not in overlapping]
                out.append((min([m.start(), *(a for a, _ in overlapping)]), max([m.end(), *(b for _, b in overlapping)])))
    else:
        out = _name_runs(text, question, lower)
    return out


def _name_runs(text: str, question: Question | None, lower: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    """Runs of capitalised words ("Jake Sullivan", "Duke of Cumberland"); where the question names
    part of a run ("Friedrich Ratzel of Germany"), also the part after a connector it does not name."""
    q_words = _question_words(question) if question is not None else set()
    lower = lower | lower_case_words([text])
    runs: list[list[re.Match]] = []
    current: list[re.Match] = []
    pending: list[re.Match] = []  # connectors waiting for the next capitalised word
    for m in _WORD.finditer(text):
        word = m.group(0)
        gap = text[(pending or current)[-1].end() : m.start()] if current else ""
        if word[:1].isupper() and current and re.fullmatch(r"\s+", gap):
            current += pending + [m]
            pending = []
        elif word[:1].isupper():
            if current:
                runs.append(current)
            current, pending = [m], []
        elif current and word in _CONNECTORS and not pending and re.fullmatch(r"\s+", gap):
            pending = [m]
        else:
            if current:
                runs.append(current)
            current, pending = [], []
    if current:
        runs.append(current)
    out = []
    for run in runs:
        # The sentence's first word is capitalised anyway: a function word there ("Although") names
        # nothing, nor does a word the text also writes in lower case; nor is a month a name.
        while run and (
            fold(run[0].group(0)) in STOPWORDS
            or (run[0].start() == 0 and fold(run[0].group(0)) in lower)
            or _FULL_MONTHS.match(run[0].group(0))
            or run[0].group(0) in _CONNECTORS
        ):
            run = run[1:]
        while run and (_FULL_MONTHS.match(run[-1].group(0)) or run[-1].group(0) in _CONNECTORS):
            run = run[:-1]
        if not run:
            continue
        end = run[-1].start() + len(re.sub(r"(?:['’]s?|\.)$", "", run[-1].group(0)))
        out.append((run[0].start(), end))
        parts = [i for i, m in enumerate(run) if m.group(0) in _CONNECTORS]
        if parts and any(w in q_words for w in words(text[run[0].start() : run[parts[-1]].start()])):
            out.append((run[parts[-1] + 1].start(), end))
    return out


def asks_people(question: Question) -> bool:
    """A who-question, or a list of people ("which officials ...")."""
    if question.qtype == "person":
        return True
    noun = re.search(r"\b(?:which|what)((?:\s+\w+){1,4})", fold(question.text))
    listed = next((w for w in (noun.group(1).split() if noun else ()) if _NAMED_LISTS.fullmatch(w)), "")
    return question.qtype == "list" and bool(_PEOPLE.fullmatch(listed))


def _trim_name(
    text: str, s: int, e: int, people: bool, standalone: set[str], lower: frozenset[str] = frozenset()
) -> tuple[int, int, bool] | None:
    """A name run without the titles, offices, bodies and places before it (None when nothing is
    left); the flag says whether a title stood before it. `standalone`: the folded names that stand
    alone elsewhere in the answer ("Vietnam"), which a longer run starting with them only follows;
    `lower`: the words the articles also write in lower case."""
    toks = list(re.finditer(r"\S+", text[s:e]))
    titled = False
    if people:
        # A person's name follows the titles and bodies: "US National Security Advisor Jake Sullivan".
        folded = [fold(t.group(0)).strip(",.’'") for t in toks]
        cut = [i for i, w in enumerate(folded) if stem(w) in TITLE_WORDS or w in OFFICE_WORDS or w in ORG_WORDS
               or w in NOT_NAMES or w in STOPWORDS]
        if cut:
            titled = any(stem(folded[i]) in TITLE_WORDS for i in cut)
            toks = toks[cut[-1] + 1 :]
        # After "<title> for", a word the articles also write in lower case is the title's field
        # ("Under-Secretary-General for Policy Guy Ryder", "Envoy for Climate John Kerry"), not the
        # name's first part ("New York" keeps its "New").
        # ("Under Secretary of Defense for Policy Sasha Baker": the title may govern two fields.)
        before = text[: s + toks[0].start()] if toks else ""
        field = re.search(r"(\S+)\s+(?:for|of)\s+(?:[A-ZÀ-Ỹ]\S*\s+(?:for|of)\s+)?$", before) if toks else None
        if field and any(stem(p) in TITLE_WORDS for p in _parts(field.group(1))):
            while len(toks) > 1 and _common(toks[0].group(0), lower):
                toks = toks[1:]
        # A run that ends in a title names an office, not a person ("UN Under-Secretary-General").
        if toks and any(stem(p) in TITLE_WORDS for p in _parts(toks[-1].group(0))):
            return None
    while toks and fold(toks[0].group(0)) in STOPWORDS:
        toks = toks[1:]
    for n in range(len(toks) - 1, 0, -1):
        if " ".join(words(" ".join(t.group(0) for t in toks[:n]))) in standalone:
            toks = toks[n:]
            break
    if not toks:
        return None
    start, end = s + toks[0].start(), s + toks[-1].end()
    name = words(text[start:end])
    if all(w in NOT_NAMES or w in STOPWORDS for w in name):
        return None
    if people and name and name[-1] in ORG_WORDS:
        return None
    return start, end, titled


def _parts(token: str) -> list[str]:
    """The folded parts of a hyphenated token ("Under-Secretary-General")."""
    return [p for p in fold(token).strip(",.’'").split("-") if p]


def _common(token: str, lower: frozenset[str]) -> bool:
    """Is every part of `token` a word written in lower case (or a function word)?"""
    parts = _parts(token)
    return any(p in lower for p in parts) and all(p in lower or p in STOPWORDS for p in parts)


def _question_words(question: Question) -> set[str]:
    return set(words(question.text)) | {w for e in question.context_entities for w in words(e)}


def _question_terms(question: Question) -> set[str]:
    out = set(question.key_terms) | set(question.context_terms)
    for t in list(out):
        out |= set(question.alternatives.get(t, ()))
    return out


def candidates(
    question: Question, sentences: list[Sentence], confidence: float | None = None, lower: frozenset[str] = frozenset()
) -> list[Span]:
    """Every span of the kind asked for in the answer's sentences, with its features (`confidence`:
    the reader's calibrated confidence in the answer as a whole; `lower`: the words the articles
    write in lower case somewhere, `rag.lexical.LexicalIndex.lower_words`)."""
    kind = wanted_kind(question)
    if kind is None:
        return []
    q_words = _question_words(question)
    q_terms = _question_terms(question)
    q_key = set(question.key_terms)
    # The question's words other than the names it gives: what is asked about them ("meet", "born").
    named = {t for e in (*question.entities, *question.context_entities) for t in terms(e)}
    focus = {t for t in q_key if t not in named}
    focus |= {a for t in list(focus) for a in question.alternatives.get(t, ())}
    unit = _unit(question)
    raw: list[tuple[Sentence, int, int, bool]] = []
    passages = {id(s.passage): s.passage.text for s in sentences}
    lower = lower | lower_case_words(passages.values())
    spans = [(sent, _spans(kind, sent.text, question, lower)) for sent in sentences]
    standalone = {" ".join(words(sent.text[s:e])) for sent, found in spans for s, e in found}
    for sent, found in spans:
        for s, e in found:
            titled = False
            if kind == "name":
                trimmed = _trim_name(sent.text, s, e, asks_people(question), standalone, lower)
                if trimmed is None:
                    continue
                s, e, titled = trimmed
            raw.append((sent, s, e, titled))
    local = []  # (sentence, start, end, titled, folded text, tokens, first token, last token, hits, context)
    for sent, s, e, titled in raw:
        own = [w for w in words(sent.text[s:e]) if w not in STOPWORDS]
        if not own or all(w in q_words for w in own):
            continue  # the question already says it
        if kind == "name" and any(w in q_words for w in own if len(w) > 2):
            continue  # part of a name the question gives
        tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(sent.text)]
        inside = [i for i, (a, b, _) in enumerate(tokens) if a < e and b > s]
        if not inside:
            continue
        first_tok, last_tok = inside[0], inside[-1]
        hits = [i for i, (_, _, w) in enumerate(tokens) if (i < first_tok or i > last_tok) and set(terms(w)) & q_terms]
        window = range(max(0, first_tok - WINDOW), min(len(tokens), last_tok + WINDOW + 1))
        context = {t for i in window if not first_tok <= i <= last_tok for t in terms(tokens[i][2])} & q_key
        near = [i for i, (_, _, w) in enumerate(tokens) if (i < first_tok or i > last_tok) and set(terms(w)) & focus]
        focus_dist = min((first_tok - i if i < first_tok else i - last_tok for i in near), default=40)
        local.append((sent, s, e, titled, " ".join(own), tokens, first_tok, last_tok, hits, context, focus_dist))
    # Distinct candidates with some of the question's words around them: the rivals of each.
    rivals_near = any(c[9] for c in local)
    out = []
    for sent, s, e, titled, folded, tokens, first_tok, last_tok, hits, context, focus_dist in local:
        text = sent.text[s:e]
        own = folded.split()
        dist = min((first_tok - i if i < first_tok else i - last_tok for i in hits), default=40)
        after = float(any(i < first_tok for i in hits) and not any(i > last_tok for i in hits))
        before_tok = fold(tokens[first_tok - 1][2]) if first_tok > 0 else ""
        unit_fit = bool(unit and any(
            m.start() <= e and m.end() >= s for m in re.finditer(unit, sent.text, re.I)
        ))
        features = (
            float(kind == "figure"),
            float(kind == "date"),
            float(kind == "name"),
            math.log(1 + dist),
            float(dist <= 2),
            after,
            float(not hits),
            float(sent is sentences[0]),
            math.log(max(len({c[4] for c in local if c[0] is sent and (c[9] or not rivals_near)}), 1)),
            math.log(len({id(c[0]) for c in local if c[4] == folded})),
            float(unit_fit),
            float(bool(re.search(rf"\d\s?(?:%|per ?cent)|[$€£¥]|\b{_SCALE}\b", text, re.I))),
            float(kind == "date" and bool(re.search(r"\d", text))),
            float(titled or stem(before_tok) in TITLE_WORDS),
            float(before_tok in _PREPS),
            float(len(own) > 1),
            float(any(w in q_words for w in own)),
            s / max(len(sent.text), 1),
            1.0 if confidence is None else float(confidence),
            len(context) / max(len(q_key), 1),
            math.log(sum(c[0] is sent for c in local)),
            math.log(1 + focus_dist),
        )
        out.append(Span(sent, sent.start + s, sent.start + e, text, kind, features))
    return out


# --- choosing -------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _load(path: str) -> dict | None:
    p = Path(path)
    if not p.exists():
        return None
    with open(p, encoding="utf-8") as f:
        model = json.load(f)
    return model if model.get("features") == list(FEATURES) else None


def load_model(path: Path | None = None) -> dict | None:
    """The fitted parameters, or None when there are none (or they were fitted for other features)."""
    return _load(str(path or MODEL_PATH))


def score(spans: list[Span], model: dict) -> list[Span]:
    """The spans with their fitted probability, best first."""
    if not spans:
        return []
    x = np.asarray([s.features for s in spans], dtype=np.float64)
    z = (x - np.asarray(model["mean"])) / np.asarray(model["scale"])
    p = 1.0 / (1.0 + np.exp(-(z @ np.asarray(model["coef"]) + model["intercept"])))
    scored = [Span(s.sentence, s.start, s.end, s.text, s.kind, s.features, float(q)) for s, q in zip(spans, p, strict=True)]
    return sorted(scored, key=lambda s: -s.prob)


def lead(
    question: Question,
    sentences: list[Sentence],
    confidence: float | None = None,
    model: dict | None = None,
    lower: frozenset[str] = frozenset(),
) -> list[Span]:
    """The short answer for `question` from the answer's `sentences`: one span, several names for a
    list, or none when the best candidate is below the fitted operating point (`lower`: as for
    `candidates`)."""
    model = model or load_model()
    if model is None or not sentences:
        return []
    found = candidates(question, sentences, confidence, lower)
    if wants_several(question) and _MEETING_QUESTION.search(fold(question.text)):
        met = met_names(question, found)
        if met:
            return met
    ranked = score(found, model)
    if not ranked or ranked[0].prob < model["threshold"]:
        return []
    if not wants_several(question):
        return ranked[:1]
    chosen: list[Span] = []
    for span in ranked:
        if span.prob < model["threshold"] or len(chosen) >= MAX_LIST:
            break
        if any(_same_name(span.text, c.text) for c in chosen):
            continue
        chosen.append(span)
    return chosen


# --- whom someone met: the list a "who did X meet?" question asks for -----------------------------

# A question asking whom someone met, received or worked with ("Who did Blinken meet in Hanoi?").
_MEETING_WORDS = (
    "meet", "met", "meeting", "talk", "talked", "talks", "speak", "spoke", "receive", "received", "host",
    "hosted", "work", "worked", "hold", "held", "session", "sessions",
)
_MEETING_QUESTION = re.compile(rf"\b(?:{'|'.join(_MEETING_WORDS)})\b")
# In a sentence: a meeting word, then "with" and the people met ("had a meeting with Le Hoai Trung",
# "held working sessions with US Secretary of State Antony Blinken, US National Security Advisor ...").
_MET_WITH = re.compile(
    r"\b(?:met|meet|meeting|meetings|talks|talked|discussion|discussions|sessions|worked|conversation)"
    r"\s+(?:[\w’'-]+\s+){0,2}?with\s+",
    re.I,
)
# Between "with" and a name further down its list: only titles, names, commas and "and".
_LIST_SO_FAR = re.compile(r"(?:[A-ZÀ-Ỹ(&][\w’'().&-]*|of|for|the|and|,|\s)*")
# After a name: it received or hosted someone ("Bui Thanh Son said when receiving US Secretary ...").
_RECEIVED = re.compile(
    r"\s*(?:[\w’'.-]+,?\s+){0,3}?(?:received|receiving|hosted|hosting|welcomed|met with|met|(?:at|during) a reception for|"
    r"(?:had|held)\s+(?:[\w-]+\s+){0,2}?(?:talks|meetings?|sessions)\s+with)\b",
    re.I,
)
# After a name: "and" with the other side, as one subject ("Bui Thanh Son and ... Antony Blinken shared").
_AND_SUBJECT = re.compile(r"\s+and\s+((?:(?:[A-ZÀ-Ỹ][\w’'.-]*|of|for|the)\s+)+)[a-z]")


def met_names(question: Question, found: list[Span]) -> list[Span]:
    """For a question asking whom someone met, the names the answer's sentences give as met by one
    the question names: after "a meeting / talks / sessions with", as the host who received them, or
    as the other half of a subject joined by "and"; in the order of `found` (the answer's), at most MAX_LIST. A
    pattern the sentences plainly state, not a guess: nothing is listed when none holds."""
    named = {t for e in (*question.entities, *question.context_entities) for t in terms(e)}
    if not named:  # a question typed in lower case names nobody: the words it asks about stand in
        named = set(question.key_terms) - set(terms(" ".join(_MEETING_WORDS)))
    if not named:
        return []
    asked = set(words(question.text)) - set(_MEETING_WORDS)
    # Where the question sets the meeting ("in Hanoi"), a name counts only from an article that says it.
    settings = [e for e in question.entities if is_setting(question.text, e)]
    chosen: list[Span] = []
    by_sentence: dict[int, list[Span]] = {}
    for span in found:
        if span.kind == "name":
            by_sentence.setdefault(id(span.sentence), []).append(span)
    for spans in by_sentence.values():
        sent = spans[0].sentence
        text = sent.text
        article = _article_text(sent.passage)  # the file is read once per sentence
        squeezed = fold(article).replace(" ", "")  # "Hà Nội" is "Hanoi" too
        if any(fold(place).replace(" ", "") not in squeezed for place in settings):
            continue
        starts = [span.start - sent.start for span in spans]
        for span, s in zip(spans, starts, strict=True):
            e = span.end - sent.start
            if re.match(r"\)?\s*(?:\([^)]*\)\s*)?(?:(?:for|of)\s+)?[A-ZÀ-Ỹ]", text[e:]):
                continue  # part of a title a name follows ("Agency for International Development (USAID)
                # Samantha Power", "Under Secretary of Defense for Policy Sasha Baker")
            if _met(text, s, e, named, starts, asked):
                span = _without_leading_name(span, article)
                if not any(_same_name(span.text, c.text) for c in chosen):
                    chosen.append(span)
    return chosen[:MAX_LIST]  # in the answer's order: the sentences as quoted, a sentence's names as they stand


def _met(text: str, s: int, e: int, named: set[str], others: list[int], asked: set[str]) -> bool:
    """Is the name at text[s:e] one that somebody the question names met (see `met_names`)?
    `asked`: the question's words; where it says how they met ("online", "by phone") and the
    sentence gives that word just before one meeting ("an online discussion with"), only that one counts."""
    meetings = list(_MET_WITH.finditer(text))
    how = [m for m in meetings if set(_modifiers(text, m)) & asked]
    for m in how or meetings:
        if m.end() > s or not _LIST_SO_FAR.fullmatch(text[m.end() : s]):
            continue
        # The one meeting is one the question names, not "his" (someone else's talks), and no other
        # name stands between them as a subject (a name listed after an earlier "with" is no subject).
        before = text[: m.start()]
        said = [w.start() for w in re.finditer(r"[\w’'-]+", before) if set(terms(w.group(0))) & named]
        if not said or re.search(r"\b(?:his|her|its)\s+(?:[\w-]+\s+)?$", before, re.I):
            continue
        listed = [w.end() for w in _MET_WITH.finditer(text, 0, m.start())]
        subjects = [o for o in others if said[-1] < o < m.start() and not any(w <= o for w in listed)]
        if not subjects:
            return True
    host = _RECEIVED.match(text, e)
    if host and set(terms(text[host.end() : host.end() + 120])) & named:
        return True
    both = _AND_SUBJECT.match(text, e)
    return bool(both and set(terms(both.group(1))) & named)


@lru_cache(maxsize=64)
def _runs_alone(article: str) -> frozenset[str]:
    """The capitalised runs an article gives on their own ("Việt Nam", "Blinken"), folded."""
    return frozenset(" ".join(words(line[s:e])) for line in article.splitlines() for s, e in _name_runs(line, None))


def _without_leading_name(span: Span, article: str) -> Span:
    """The span without a leading name the article also gives on its own, when a name of two words
    or more is left: "Việt Nam Nguyễn Phú Trọng" (from "the Communist Party of Việt Nam Nguyễn Phú
    Trọng") is Nguyễn Phú Trọng."""
    toks = list(re.finditer(r"\S+", span.text))
    alone = _runs_alone(article)
    for n in range(len(toks) - 2, 0, -1):
        if " ".join(words(span.text[: toks[n - 1].end()])) in alone:
            start = span.start + toks[n].start()
            return replace(span, start=start, text=span.text[toks[n].start() :])
    return span


def _modifiers(text: str, meeting: re.Match) -> list[str]:
    """The words before a meeting noun that say what kind it was ("an online discussion", "phone
    talks", "working sessions"); none before a verb ("the delegation worked with")."""
    if re.match(r"(?:met|meet|worked|talked)\b", meeting.group(0), re.I):
        return []
    before = re.search(r"(?:^|\b(?:a|an|the|had|held|his|her|their|its|also)\s+)((?:[\w-]+\s+){0,2})$", text[: meeting.start()], re.I)
    return words(before.group(1)) if before else []


def _same_name(a: str, b: str) -> bool:
    wa, wb = set(words(a)), set(words(b))
    return wa <= wb or wb <= wa


# --- who "he" is --------------------------------------------------------------------------------


def needs_antecedent(sentence: str) -> bool:
    """Does the sentence open with a pronoun ("He", "They", "That was ...") it never explains?"""
    return bool(_PRONOUN_START.match(sentence.strip()))


def antecedent(sentence: Sentence) -> Sentence | None:
    """The sentence before `sentence` in its passage that says who (or what) its opening pronoun
    means: for "That ..." the one just before; for "They", the nearest that does not itself say
    "they"; for "He"/"She", the nearest naming a person that does not itself say "he"/"she"."""
    if not needs_antecedent(sentence.text):
        return None
    before = [
        s for s in sentences_of(sentence.passage, sentence.rank) if s.end <= sentence.start and not is_heading(s.text)
    ]
    if len(before) < ANTECEDENT_REACH:  # the passage starts close before: read on in the file
        before = _file_before(sentence) + before
    if not before:
        return None
    if sentence.text.startswith("That"):
        prev = before[-1]
        return None if needs_antecedent(prev.text) else prev
    # A sentence whose subject is "he" (or "they") itself does not say who that is.
    person = bool(re.match(r"(?:He|She|His|Her)\b", sentence.text))
    same = r"\b(?:he|she)\b" if person else r"\bthey\b"
    for prev in reversed(before[-ANTECEDENT_REACH:]):
        if (person_names(prev.text) or _person_subject(prev) or not person) and not re.search(same, prev.text, re.I):
            return prev
    return None


def _person_subject(sentence: Sentence) -> str | None:
    """A sentence-opening name on its own ("Trong noted his thanks ..."), when it is a person's: its
    article names a person by it in full or with a title ("Nguyen Phu Trong", "General Secretary
    Trong"), which a country or a body ("Vietnam considers ...") never is."""
    m = re.match(r"([A-ZÀ-Ỹ][\w’'-]+)\s+[a-z]", sentence.text)
    if not m or fold(m.group(1)) in STOPWORDS:
        return None
    return m.group(1) if fold(m.group(1)) in _full_name_ends(_article_text(sentence.passage)) else None


@lru_cache(maxsize=64)
def _full_name_ends(article: str) -> frozenset[str]:
    """The last words of the names of two words or more an article gives ("trong" for "Nguyen Phu
    Trong"); kept per article text, as an answer asks it of several sentences of one article."""
    return frozenset(n.split()[-1] for line in article.splitlines() for n in person_names(line) if len(n.split()) > 1)


def _article_text(passage) -> str:
    """The whole file a passage comes from (the passage alone when the file changed or is gone)."""
    return _file_text(passage) or passage.text


def _file_text(passage) -> str | None:
    """The file a passage comes from, None when it is gone or changed since it was ingested."""
    try:
        text = Path(passage.path).read_text(encoding="utf-8") if passage.path else ""
    except OSError:
        return None
    return text if text[passage.start : passage.end] == passage.text else None


def _file_before(sentence: Sentence) -> list[Sentence]:
    """The sentences of the file just before `sentence`'s passage (as one-sentence passages)."""
    p = sentence.passage
    text = _file_text(p)
    if text is None:
        return []
    start = max(0, p.start - 1500)
    out = []
    spans = sentence_spans(text[start : p.start], start)
    for s, e in spans[1:] if start else spans:  # the first may be cut short
        quote = text[s:e]
        if not is_heading(quote):
            piece = replace(p, id=f"{p.id}@{s}", text=quote, start=s, end=e, also_in=(), similarity=None)
            out.append(Sentence(quote, s, e, piece, sentence.rank, -1))
    return out[-ANTECEDENT_REACH:]


def who(sentence: Sentence) -> Span | None:
    """For a sentence opening with "He"/"She"/"His"/"Her", the person it means: the antecedent
    sentence's subject when that is a title ("The PM took the occasion ..." -> "The PM"), else the
    first person it names, with a title ("Prime Minister Pham Minh Chinh") or as its subject
    ("Pham Minh Chinh said ..."); None when that is not plain (then the whole sentence is quoted)."""
    if re.match(r"(?:They|Their)\b", sentence.text):
        return _who_they_are(sentence)
    if not re.match(r"(?:He|She|His|Her)\b", sentence.text):
        return None
    prev = antecedent(sentence)
    if prev is None:
        return None
    described = _described_subject(prev.text)
    if described is not None:  # "The PM emphasised ...": "He" is the PM
        return Span(prev, prev.start, prev.start + described, prev.text[:described], "who")
    own = set(words(sentence.text))
    for s, e in _name_runs(prev.text, None):
        trimmed = _trim_name(prev.text, s, e, True, set())
        if trimmed is None:
            continue
        start, end, titled = trimmed
        text = prev.text[start:end]
        if set(words(text)) <= own:
            continue  # "He ... the invitation to Biden": whom the sentence names is not its "He"
        subject = not re.search(r"\w", re.sub(r"^\s*the\s+", "", prev.text[:s], flags=re.I))
        if titled or (subject and (len(text.split()) >= 2 or _person_subject(prev) == text)):
            return Span(prev, prev.start + start, prev.start + end, text, "who")
        return None
    return None


def _who_they_are(sentence: Sentence) -> Span | None:
    """For "They ...", the antecedent sentence's subject when it is plainly several: two named by
    "and" ("Minister ... Bui Thanh Son and US Secretary of State Antony Blinken shared ...") or a
    plural title ("The US officials affirmed ..."); None otherwise (the sentence is quoted whole)."""
    prev = antecedent(sentence)
    if prev is None:
        return None
    end = _described_subject(prev.text)
    if end is not None and not prev.text[:end].endswith("s"):
        end = None  # "The PM" is not "they"
    if end is None:
        both = _COORDINATED.match(prev.text)
        end = both.end(1) if both else None
    if end is None:
        return None
    return Span(prev, prev.start, prev.start + end, prev.text[:end], "who")


# A sentence-opening subject of capitalised names joined by "and", then a lower-case verb.
_NAMEISH = r"[A-ZÀ-Ỹ][\w’'.-]*(?:\s+(?:(?:of|for|the|de)\s+)*[A-ZÀ-Ỹ][\w’'.-]*)*"
_COORDINATED = re.compile(rf"({_NAMEISH}\s+and\s+(?:the\s+)?{_NAMEISH})\s+[a-z]")


def _described_subject(text: str) -> int | None:
    """The end of a sentence-opening "The <title>" ("The PM", "The Foreign Minister", "The US
    diplomat"): who the sentence is about when it names no one by name; None otherwise."""
    m = re.match(r"The((?:\s+[\w.’'-]+){1,4})", text)
    if not m:
        return None
    end = len("The")
    for piece in re.finditer(r"\s+([\w.’'-]+)", m.group(1)):
        word = piece.group(1)
        end += len(piece.group(0))
        if word in ("PM", "FM") or stem(word.lower()) in TITLE_WORDS:
            office = re.match(r"\s+of\s+(?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*", text[end:])
            return end + (office.end() if office else 0)  # "The Secretary of State"
        if not (word[:1].isupper() or word.lower() in ("party",)):  # "The Vietnamese official", not "The two sides"
            return None
    return None
