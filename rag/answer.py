"""Answerers turn a question and retrieved passages into an `Answer` with one citation per sentence.

`ExtractiveAnswerer` (the offline default) picks the retrieved sentences that answer the question,
not merely resemble it: it weighs the question's key terms by rarity, checks that the sentence
holds the kind of thing asked for (a number, a date, a name ...), and refuses when the passages
lack the question's names, numbers or rarest terms, or when much of the question is words the
articles never use (after general synonyms and other verb forms). Any other answerer (an LLM)
fits beside it by implementing `Answerer`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from rag.citations import Sentence, cite, same_sentence, sentences_of
from rag.documents import is_heading
from rag.lexical import LexicalIndex
from rag.models import Answer, Citation, Passage
from rag.question import (
    LIGHT_VERBS,
    NAME_ALIASES,
    SPEECH_VERBS,
    Question,
    has_date,
    has_number,
    is_setting,
    is_title,
    person_names,
    scene_terms,
)
from rag.text import fold, terms, words

_DAY_OF_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r" \d{1,2}\b|\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\b"
)
_DATE_WORD = re.compile(
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
)
_PLACE = re.compile(r"\b(?:[Ii]n|[Aa]t)\s+(?:the\s+)?([A-ZÀ-Ỹ][\w’'-]*(?:\s+[A-ZÀ-Ỹ][\w’'-]*)*)")
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|dozens?)"
)
REFUSAL = "The articles don't cover this: I found nothing in them that answers the question."
MAX_SENTENCES = 3
# Question types whose answer must hold a specific kind of thing (a figure, a date, a name).
TYPED = ("percent", "number", "date", "person", "place")
MIN_COVERAGE = 0.25  # share of the question's key-term weight a sentence must carry
MIN_FOCUS = 0.3  # ... and share of what is asked (its words other than names)
RAREST_EXEMPT = 0.5  # a sentence covering this much may lack the question's rarest word
THIN_FOCUS = 0.5  # a focus lighter than half the rarest word's weight is not insisted on
UNKNOWN_SHARE = 0.4  # refuse when this much of the question is words the articles never use
FOCUS_SHARE = 0.65  # coverage weight of what is asked, against who it is about
SYNONYM_CREDIT = 0.8  # a paraphrase matches a little less surely than the word itself
EXTRA_SCORE = 0.7  # a further sentence must score this share of the best one
SINGLE_EXTRA_SCORE = 0.85  # ... or this share, when the answer is a single figure or date
UNIT_BONUS = 0.3  # "how many years" answered by "six years", not by any figure
LIGHT_WEIGHT = 0.4  # "hold talks", "make efforts", "in 2023": words that only set the scene
TOPIC_PREPOSITIONS = ("about", "regarding", "concerning", "on")  # "say about ASEAN": what is asked


class Answerer(Protocol):
    """Anything that answers a question from passages, citing them (extractive, LLM ...)."""

    name: str

    def answer(self, question: Question, passages: list[Passage]) -> Answer: ...

    def stream(self, question: Question, passages: list[Passage]) -> Iterator[str | Answer]: ...


def compose(question: Question, picked: list[Sentence], passages: list[Passage], lexical, mode: str) -> Answer:
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
    )


def refusal(question: Question, passages: list[Passage], mode: str, reason: str | None = None) -> Answer:
    """An answer that declines, naming the missing name or number when there is one."""
    return Answer(
        question=question.text,
        text=REFUSAL if not reason else f"{REFUSAL} ({reason})",
        citations=[],
        refused=True,
        passages=passages,
        standalone_question=question.standalone,
        mode=mode,
    )


@dataclass
class Scored:
    """A candidate sentence and the evidence that it answers the question."""

    sentence: Sentence
    score: float
    coverage: float
    covered: frozenset[str]
    fits_type: bool
    in_passage: frozenset[str] = frozenset()  # key terms found anywhere in the sentence's passage
    focus: float = 1.0  # share of the question's non-name key-term weight the sentence holds
    in_unit: bool = False  # holds a figure in the unit asked for ("six years" for "how long")


class ExtractiveAnswerer:
    """Composes an answer from the retrieved sentences that answer the question (no LLM)."""

    name = "extractive"

    def __init__(self, lexical: LexicalIndex) -> None:
        self.lexical = lexical

    def stream(self, question: Question, passages: list[Passage]) -> Iterator[str | Answer]:
        answer = self.answer(question, passages)
        yield answer.text
        yield answer

    def answer(self, question: Question, passages: list[Passage]) -> Answer:
        """The cited sentences that answer `question`, or a refusal."""
        picked, reason = self.decide(question, passages)
        if not picked:
            shown = reason if reason.startswith("no mention") else None
            return refusal(question, passages, self.name, shown)
        return compose(question, [c.sentence for c in picked], passages, self.lexical, self.name)

    def decide(self, question: Question, passages: list[Passage]) -> tuple[list[Scored], str]:
        """The sentences that answer `question`, in reading order, or none and the reason why."""
        if not passages:
            return [], "no passages"
        missing = self._missing_names(question, passages)
        if missing:
            return [], f"no mention of {', '.join(missing)}"
        if self._unknown_share(question) >= UNKNOWN_SHARE:
            return [], "the question's key words occur nowhere in the articles"
        scored = self._score(question, passages)
        rarest = self._rarest(question)
        answering = [c for c in scored if self._answers(question, c, rarest)]
        if not answering:
            return [], "no sentence holds what is asked"
        # "How long ...?" is answered by a figure in that unit ("six years"), not by any figure.
        in_unit = [c for c in answering if c.in_unit]
        answering = in_unit or answering
        picked = self._pick(question, answering)
        # Keep the article's own order when sentences come from one passage.
        picked.sort(key=lambda c: (c.sentence.rank, c.sentence.start))
        return picked, ""

    def _pick(self, question: Question, answering: list[Scored]) -> list[Scored]:
        """The best sentence, plus up to two that add asked-for facts (not syndicated repeats)."""
        best = answering[0]
        picked = [best]
        covered = set(best.covered)
        values = _answer_values(question, best.sentence.text)
        # A figure or a date is one fact: a further sentence must nearly match the best one.
        single = question.qtype in ("number", "percent", "date", "yesno")
        floor = (SINGLE_EXTRA_SCORE if single else EXTRA_SCORE) * best.score
        names = {t for e in (*question.entities, *question.context_entities) for t in terms(e)}
        for cand in answering[1:]:
            if len(picked) == MAX_SENTENCES or cand.score < floor:
                break
            if any(same_sentence(cand.sentence.text, p.sentence.text) for p in picked):
                continue
            new_terms = cand.covered - covered - names  # naming someone again adds no fact
            # Another place or person answering the same question ("met in Hanoi ... in Washington").
            new_values = _answer_values(question, cand.sentence.text) - values
            if not new_terms and not new_values and not (question.qtype == "list" and cand.fits_type):
                continue
            picked.append(cand)
            covered |= cand.covered
            values |= new_values
        return picked

    # --- scoring ---------------------------------------------------------------------

    def _weights(self, question: Question) -> dict[str, float]:
        """Key terms weighted by rarity; a term the corpus never uses counts via its synonyms."""
        df, idf = self.lexical.df, self.lexical.idf
        weights: dict[str, float] = {}
        scene = scene_terms(question.text)
        for t in question.key_terms:
            if df.get(t):
                # A light verb, a year ("in 2023") or a "when ..." clause only sets the scene.
                light = t in LIGHT_VERBS or t in scene or re.fullmatch(r"(?:19|20)\d\d", t)
                weights[t] = idf(t) * (LIGHT_WEIGHT if light else 1.0)
                continue
            alts = [idf(a) for a in question.alternatives.get(t, ()) if df.get(a)]
            if alts:
                weights[t] = min(alts)
        for t in question.context_terms:
            if df.get(t):
                weights.setdefault(t, 0.5 * idf(t))
        return weights

    @property
    def _max_idf(self) -> float:
        """The weight of a word the corpus never uses: the most specific a term can be."""
        return self.lexical.idf("\x00")

    def _unknown_share(self, question: Question) -> float:
        """Share of the question's key-term weight made of words the articles never use."""
        all_w = {t: self.lexical.idf(t) for t in question.key_terms}
        total = sum(all_w.values())
        known = self._weights(question)
        return sum(w for t, w in all_w.items() if t not in known) / total if total else 0.0

    @staticmethod
    def _matched(question: Question, weights: dict[str, float], own: set[str]) -> frozenset[str]:
        """Key terms a sentence carries, itself or as one of the term's synonyms."""
        alts = question.alternatives
        return frozenset(t for t in weights if t in own or (alts.get(t, frozenset()) & own))

    def _score(self, question: Question, passages: list[Passage]) -> list[Scored]:
        """Every sentence of the passages, scored by how well it answers, best first."""
        weights = self._weights(question)
        # Names say who the question is about; a place it is set in ("in New York") or a topic
        # ("what did Blinken say about ASEAN") is part of what it asks, so it must be in the
        # sentence itself.
        settings = [
            e
            for e in question.entities
            if is_setting(question.text, e) or is_setting(question.text, e, TOPIC_PREPOSITIONS)
        ]
        names = {
            t
            for e in (*question.entities, *question.context_entities)
            if e not in settings
            for t in terms(e)
        } - {t for e in settings for t in terms(e)}
        # Like a name, a "when ..." clause says which occasion, not what is asked.
        names |= scene_terms(question.text) & set(weights)
        if question.qtype != "person":  # "How did the Party chief respond?": the title says who
            names |= {t for t in weights if is_title(t)}
        q_names = set(question.entities) | set(question.context_entities)
        unit = _quantity_pattern(question)
        out: list[Scored] = []
        for rank, passage in enumerate(passages):
            sents = sentences_of(passage, rank)
            passage_terms = set(terms(passage.text))
            in_passage = self._matched(question, weights, passage_terms)
            for i, sent in enumerate(sents):
                if is_heading(sent.text) or len(sent.text.split()) < 5:
                    continue
                own = set(terms(sent.text))
                # The subject is often named in the sentence before ("He stressed ...").
                before = set(terms(sents[i - 1].text)) if i > 0 else set()
                coverage, focus = self._coverage(question, weights, names, own, before, passage_terms)
                covered = self._matched(question, weights, own)
                in_unit = bool(unit and re.search(unit, fold(sent.text)))
                fits = in_unit or _fits_type(question, sent.text, own, q_names)
                score = coverage + 0.08 / (1 + rank) + 0.3 * (passage.similarity or 0.0)
                score += 0.3 if fits else (-0.15 if question.qtype in TYPED else 0.0)
                if question.qtype == "list":
                    score += 0.03 * min(sent.text.count(","), 5)
                score += UNIT_BONUS if in_unit else 0.0
                out.append(Scored(sent, score, coverage, covered, fits, in_passage, focus, in_unit))
        out.sort(key=lambda s: -s.score)
        return out

    def _coverage(
        self,
        question: Question,
        weights: dict[str, float],
        names: set[str],
        own: set[str],
        before: set[str],
        passage_terms: set[str],
    ) -> tuple[float, float]:
        """How much of the question a sentence covers, and how much of its focus words, 0..1.

        What is asked about (the focus words) must be in the sentence itself; who it is about
        (the names) may be named in the sentence before or elsewhere in the passage, as
        articles say "He stressed ..." once the subject is introduced.
        """
        focus = {t: w for t, w in weights.items() if t not in names}
        named = {t: w for t, w in weights.items() if t in names}
        focus_cov = self._credit(question, focus, own) / (sum(focus.values()) or 1.0)
        name_cov = max(
            self._credit(question, named, own),
            self._credit(question, named, own | before) * 0.85,
            self._credit(question, named, own | passage_terms) * 0.6,
        ) / (sum(named.values()) or 1.0)
        if not focus:
            return name_cov, 1.0
        if not named:
            return focus_cov, focus_cov
        # A focus of one common word ("hold", "meet") is thin evidence: let the names weigh more,
        # and don't insist on it.
        thinness = sum(focus.values()) / self._max_idf
        share = FOCUS_SHARE * min(1.0, thinness)
        coverage = share * focus_cov + (1 - share) * name_cov
        return coverage, focus_cov if thinness >= THIN_FOCUS else 1.0

    @staticmethod
    def _credit(question: Question, weights: dict[str, float], own: set[str]) -> float:
        """Weight of the terms `own` holds; a synonym counts a little less than the word itself."""
        total = 0.0
        for t, w in weights.items():
            if t in own:
                total += w
            elif question.alternatives.get(t, frozenset()) & own:
                total += SYNONYM_CREDIT * w
        return total

    def _answers(self, question: Question, cand: Scored, rarest: str | None) -> bool:
        """Does this sentence answer, rather than resemble, the question?"""
        if question.qtype in TYPED and not cand.fits_type:
            return False
        if cand.coverage < MIN_COVERAGE:
            return False
        if cand.in_unit:  # the figure asked for, in its unit: the wording may differ
            return True
        if cand.focus < MIN_FOCUS:
            return False
        # The question's most specific word (not a name) must be in the sentence or its passage.
        if rarest and rarest not in cand.covered and cand.coverage < RAREST_EXEMPT:
            return rarest in cand.in_passage
        return True

    def _rarest(self, question: Question) -> str | None:
        """The question's rarest known key term that is not part of a name."""
        name_terms = {t for e in question.entities for t in terms(e)}
        weights = {
            t: w
            for t, w in self._weights(question).items()
            if t in question.key_terms and t not in name_terms
        }
        return max(weights, key=weights.get) if weights else None

    def _missing_names(self, question: Question, passages: list[Passage]) -> list[str]:
        """Names and numbers of the question found in none of the passages (or their copies)."""
        texts = [t for p in passages for t in (p.text, *(loc.text for loc in p.also_in))]
        # Compare word tokens, so "Hà Nội"/"Hanoi" and "United States"/"US" count as the same.
        haystack = {w.split("'")[0] for t in texts for w in words(t)}  # possessives too
        missing = []
        for name in question.entities:
            parts = [w for w in words(NAME_ALIASES.get(name, name)) if len(w) > 2 or w == "us"]
            if parts and not all(w in haystack for w in parts):
                missing.append(name)
        flat = re.sub(r"[^\w.,]+", " ", " " + " ".join(fold(t) for t in texts) + " ")
        for number in question.numbers:
            if not re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", flat):
                missing.append(number)
        return missing


def _quantity_pattern(question: Question) -> str | None:
    """For "how many years" or "how long", a pattern for a figure in that unit ("six years")."""
    q = fold(question.text)
    many = re.search(r"\bhow many (\w+)(?: (\w+))?", q)
    if many:
        # "how many Vietnamese students": the counted noun is the plural, not its modifier.
        noun = many.group(2) if (many.group(2) or "").endswith("s") else many.group(1)
        unit = re.escape(re.sub(r"(?<=\w\w)(e?s)$", "", noun)) + r"\w*"
    elif re.search(r"\bhow long\b", q):
        unit = r"(?:years?|months?|weeks?|days?|hours?|decades?)"
    else:
        return None
    figure = rf"(?:\d[\d.,]*|{_NUMBER_WORDS})\s+(?:\w+\s+)?{unit}\b"
    if unit.startswith("year"):  # "how many years", not "how long ago"
        # An anniversary counts years: "the 10th anniversary" answers "how many years".
        figure += r"|\b\d+(?:st|nd|rd|th)\s+anniversary\b"
    return figure


def _places(sentence: str, q_names: set[str]) -> set[str]:
    """Named places ("in Hanoi", "at the White House") that the question does not already name."""
    out = set()
    for m in _PLACE.finditer(sentence):
        place = fold(m.group(1))
        if not _DATE_WORD.match(place) and not any(place in q or q in place for q in q_names):
            out.add(place)
    return out


def _answer_values(question: Question, sentence: str) -> set[str]:
    """The places or people a sentence offers as the answer (empty for other question types)."""
    q_names = set(question.entities) | set(question.context_entities)
    if question.qtype == "place":
        return _places(sentence, q_names)
    if question.qtype == "person":
        return {n for n in person_names(sentence) if not any(n in q or q in n for q in q_names)}
    return set()


def _fits_type(question: Question, sentence: str, own_terms: set[str], q_names: set[str]) -> bool:
    """Does the sentence hold the kind of thing asked for (a figure, a date, a name, a place)?"""
    qtype = question.qtype
    if qtype == "percent":
        return bool(re.search(r"\d\s*(%|per ?cent)", sentence))
    if qtype == "number":
        question_numbers = set(question.numbers)
        # Figures, not the day of a date or a year.
        found = [
            n
            for n in re.findall(r"(?<![\w-])\d[\d.,]*\b", _DAY_OF_MONTH.sub(" ", sentence))
            if not re.fullmatch(r"(19|20)\d\d", n.rstrip(".,"))
        ]
        return any(n.rstrip(".,") not in question_numbers for n in found) or (
            not found and has_number(sentence)
        )
    if qtype == "date":
        return has_date(sentence)
    if qtype == "person":
        names = [n for n in person_names(sentence) if not any(n in q or q in n for q in q_names)]
        return bool(names) or any(is_title(t) for t in own_terms)
    if qtype == "place":
        return bool(_places(sentence, q_names))
    if qtype == "say":
        # "said", "says" and "told" are stopwords, so look for them in the raw words too.
        return bool(own_terms & SPEECH_VERBS) or bool(re.search(r"\b(said|says|told)\b", sentence))
    return True
