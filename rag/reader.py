"""The fitted reader: which retrieved sentences answer a question, and how sure the answer is.

Every sentence of the retrieved passages gets a vector of features (MiniLM similarity of the
question to the sentence, its neighbours and its passage; rarity-weighted coverage of the
question's terms with synonyms and other word forms; names; whether it holds the kind of thing
asked for; passage rank and fused score ...). A logistic model fitted on labelled questions
(`rag/fit_reader.py`, parameters in `rag/reader_model.json`) turns them into the probability that
the sentence holds the answer. A second fitted model turns the chosen answer's evidence into a
calibrated confidence that the answer holds what is asked; below `RAG_MIN_CONFIDENCE` the
answerer refuses. No weight or threshold here is set by hand.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.citations import Sentence, same_sentence, sentences_of
from rag.documents import is_heading
from rag.errors import RagError
from rag.injection import overlaps
from rag.models import Passage
from rag.question import Question, fits_type, has_number, quantity_pattern
from rag.text import fold, terms, words

MODEL_PATH = Path(__file__).with_name("reader_model.json")
SYNONYM_CREDIT = 0.8  # a paraphrase or other word form is weaker evidence than the word itself
_NEGATION = re.compile(r"\b(?:not|never|no|none|nor|neither|without|cannot|fail(?:ed|s)?\s+to)\b|n't\b")
_FIGURE = re.compile(r"(?<![\w.,])\d[\d.,]*\d|(?<![\w.,])\d")

SENTENCE_FEATURES = (
    "cos", "cos_gap", "cos_prev", "cos_next", "cos_with_prev", "cos_passage", "sim_passage",
    "cov", "cov_gap", "cov_focus", "cov_window", "cov_passage", "cov_prev",
    "names", "names_window", "bigrams", "novelty",
    "figure_fit", "figure_unfit", "name_fit", "name_unfit", "in_unit", "new_name", "new_number",
    "rank_inv", "fused_rel", "log_len", "first", "neg_mismatch", "repeat",
)
_FIGURE_TYPES = ("percent", "number", "date")
_NAME_TYPES = ("person", "place")
ANSWER_FEATURES = (
    "best_logit", "second_logit", "best_cos", "best_cov", "best_focus", "unknown_share",
    "missing_name", "unmatched_rare", "unmatched_passage", "unmatched_figure", "figure_unfit", "name_unfit", "q_negation",
    "log_terms", "best_cos_passage",
)


@dataclass
class Candidate:
    sentence: Sentence
    features: np.ndarray
    logit: float = 0.0
    prob: float = 0.0


@dataclass
class Reading:
    """What the reader made of one question: candidates best first, the answer-level evidence."""

    candidates: list[Candidate]
    answer_features: np.ndarray | None
    picked: list[Candidate]
    confidence: float
    missing: tuple[str, ...] = ()


def load_model(path: Path | None = None) -> dict:
    """The fitted parameters (default: `rag/reader_model.json`), checked against the features."""
    model = _load(str(path or MODEL_PATH))
    if model["sentence"]["features"] != list(SENTENCE_FEATURES) or model["answer"]["features"] != list(ANSWER_FEATURES):
        raise RagError(f"{path or MODEL_PATH} was fitted for other features; refit it: python -m rag.fit_reader")
    return model


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def bootstrap_model() -> dict:
    """Parameters to start fitting from: the five-line ranker's weights, never refusing."""
    first = {"cos": 10.0, "cov": 5.0, "rank_inv": 1.0}
    return {
        "about": "bootstrap: cosine + 0.5 x coverage + 0.1 x rank, never refusing",
        "sentence": {"features": list(SENTENCE_FEATURES), "mean": [0.0] * len(SENTENCE_FEATURES),
                     "scale": [1.0] * len(SENTENCE_FEATURES), "coef": [first.get(n, 0.0) for n in SENTENCE_FEATURES],
                     "intercept": -8.0},
        "select": {"max_sentences": 2, "logit_gap": 1.0, "min_prob": 0.0, "min_confidence": 0.0},
        "answer": {"features": list(ANSWER_FEATURES), "mean": [0.0] * len(ANSWER_FEATURES),
                   "scale": [1.0] * len(ANSWER_FEATURES),
                   "coef": [1.0 if n == "best_logit" else 0.0 for n in ANSWER_FEATURES], "intercept": 0.0},
    }


def logistic(part: dict, x: np.ndarray) -> np.ndarray:
    """A fitted logistic model: standardise, weigh, squash (one row of `x` per item)."""
    z = (x - np.asarray(part["mean"])) / np.asarray(part["scale"])
    return z @ np.asarray(part["coef"]) + part["intercept"]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class Reader:
    """Scores sentences and composes the answer with the fitted parameters."""

    def __init__(self, lexical, vectors, embedder, model: dict | None = None) -> None:
        self.lexical = lexical
        self.vectors = vectors
        self.embedder = embedder
        self.model = model or load_model()

    # --- term weights ---------------------------------------------------------------

    def weights(self, question: Question) -> dict[str, float]:
        """Key terms weighted by rarity; a term the articles never use counts via its synonyms."""
        df, idf = self.lexical.df, self.lexical.idf
        out: dict[str, float] = {}
        for t in question.key_terms:
            if df.get(t):
                out[t] = idf(t)
                continue
            alts = [idf(a) for a in question.alternatives.get(t, ()) if df.get(a)]
            if alts:
                out[t] = min(alts)
        return out

    def unknown_share(self, question: Question) -> float:
        """Share of the question's key-term weight made of words the articles never use."""
        every = {t: self.lexical.idf(t) for t in question.key_terms}
        total = sum(every.values())
        known = self.weights(question)
        return sum(w for t, w in every.items() if t not in known) / total if total else 0.0

    def _credit(self, question: Question, weights: dict[str, float], own: set[str]) -> float:
        total = 0.0
        for t, w in weights.items():
            if t in own:
                total += w
            elif question.alternatives.get(t, frozenset()) & own:
                total += SYNONYM_CREDIT * w
        return total

    # --- features -------------------------------------------------------------------

    def read(self, question: Question, passages: list[Passage], history_quotes: tuple[str, ...] = ()) -> Reading:
        """Score every sentence of `passages`; pick the answer and say how sure it is."""
        sents, x = self.featurize(question, passages, history_quotes)
        if not sents:
            return Reading([], None, [], 0.0)
        logits = logistic(self.model["sentence"], x)
        cands = [Candidate(s, x[j], float(logits[j]), float(sigmoid(logits[j]))) for j, s in enumerate(sents)]
        cands.sort(key=lambda c: -c.logit)
        picked = self.pick(question, cands)
        missing = self.missing_names(question, passages)
        a = self.answer_features(question, cands, picked, missing)
        confidence = float(sigmoid(logistic(self.model["answer"], a[None, :])[0]))
        return Reading(cands, a, self.extend(question, cands, picked), confidence, tuple(missing))

    def featurize(
        self, question: Question, passages: list[Passage], history_quotes: tuple[str, ...] = ()
    ) -> tuple[list[Sentence], np.ndarray]:
        """The candidate sentences of `passages` and one row of `SENTENCE_FEATURES` for each."""
        sents: list[Sentence] = []
        groups: list[tuple[int, int]] = []  # each passage's slice of `sents`
        for rank, passage in enumerate(passages):
            first = len(sents)
            sents.extend(
                s for s in sentences_of(passage, rank)
                if not is_heading(s.text) and not overlaps(s.start, s.end, passage.instructions)
            )
            groups.append((first, len(sents)))
        if not sents:
            return [], np.zeros((0, len(SENTENCE_FEATURES)))
        qvec = np.asarray(self.embedder.get_query_embedding(question.search_text), dtype=np.float32)
        svecs = self.vectors.get([s.text for s in sents])
        cos = svecs @ qvec
        weights = self.weights(question)
        names = {t for e in (*question.entities, *question.context_entities) for t in terms(e)}
        focus = {t: w for t, w in weights.items() if t not in names}
        total_w = sum(weights.values()) or 1.0
        focus_w = sum(focus.values()) or 1.0
        entity_parts = [set(terms(e)) for e in (*question.entities, *question.context_entities)]
        entity_parts = [p for p in entity_parts if p]
        q_terms = set(question.key_terms) | set(question.context_terms)
        q_bigrams = _pairs(terms(question.text))
        q_negated = bool(_NEGATION.search(fold(question.text)))
        unit = quantity_pattern(question)
        q_names = set(question.entities) | set(question.context_entities)
        q_words = set(words(question.search_text))
        top_score = max((p.score for p in passages), default=1.0) or 1.0
        term_lists = [terms(s.text) for s in sents]  # each sentence tokenised once: its terms and their pairs
        own_terms = [set(t) for t in term_lists]
        covs = [self._credit(question, weights, own) / total_w for own in own_terms]
        rows = []
        for (first, last), passage in zip(groups, passages, strict=True):
            if first == last:
                continue
            pvec = svecs[first:last].mean(axis=0)
            cos_passage = float(pvec @ qvec / (np.linalg.norm(pvec) or 1.0))
            sim_passage = passage.similarity if passage.similarity is not None else cos_passage
            passage_terms = set().union(*own_terms[first:last])
            cov_passage = self._credit(question, weights, passage_terms) / total_w
            for i in range(first, last):
                s = sents[i]
                own = own_terms[i]
                window = own | (own_terms[i - 1] if i > first else set()) | (own_terms[i + 1] if i + 1 < last else set())
                cov = covs[i]
                in_unit = bool(unit and re.search(unit, fold(s.text)))
                fits = in_unit or fits_type(question, s.text, own, q_names)
                figure = question.qtype in _FIGURE_TYPES
                name = question.qtype in _NAME_TYPES
                n_words = len(s.text.split())
                new = any(w not in q_words for w in _capitalised(s.text))
                rows.append(
                    [
                        float(cos[i]),
                        0.0,  # cos_gap, filled below
                        float(cos[i - 1]) if i > first else 0.0,
                        float(cos[i + 1]) if i + 1 < last else 0.0,
                        _cos_sum(svecs[i - 1] + svecs[i], qvec) if i > first else float(cos[i]),
                        cos_passage,
                        sim_passage,
                        cov,
                        0.0,  # cov_gap
                        self._credit(question, focus, own) / focus_w if focus else 1.0,
                        self._credit(question, weights, window) / total_w,
                        cov_passage,
                        covs[i - 1] if i > first else 0.0,
                        _share(entity_parts, own),
                        _share(entity_parts, window),
                        len(q_bigrams & _pairs(term_lists[i])) / len(q_bigrams) if q_bigrams else 0.0,
                        len(own - q_terms) / len(own) if own else 0.0,
                        float(figure and fits),
                        float(figure and not fits),
                        float(name and fits),
                        float(name and not fits),
                        float(in_unit),
                        float(new),
                        float(not question.numbers and has_number(s.text)),
                        1.0 / (1 + s.rank),
                        passage.score / top_score,
                        math.log(1 + n_words),
                        float(i == first),
                        float(q_negated and not _NEGATION.search(fold(s.text))),
                        float(any(same_sentence(s.text, h) for h in history_quotes)),
                    ]
                )
        x = np.asarray(rows, dtype=np.float64)
        col = {n: j for j, n in enumerate(SENTENCE_FEATURES)}
        x[:, col["cos_gap"]] = x[:, col["cos"]] - x[:, col["cos"]].max()
        x[:, col["cov_gap"]] = x[:, col["cov"]] - x[:, col["cov"]].max()
        return sents, x

    def pick(self, question: Question, cands: list[Candidate]) -> list[Candidate]:
        """The best sentence, and the next ones while they score close to it (a fitted ratio); the
        passage of the best sentence comes first, and a passage's sentences keep their order."""
        if not cands:
            return []
        model = self.model["select"]
        return self._in_reading_order(self._add_close(cands, [cands[0]], model["max_sentences"], model["logit_gap"]))

    def _add_close(self, cands: list[Candidate], chosen: list[Candidate], most: int, gap: float) -> list[Candidate]:
        """`chosen`, then the next of `cands` (best first) while fewer than `most` are chosen and they
        score within `gap` of the best and above the floor (`min_prob`); a sentence the same as one
        chosen is skipped."""
        best, out = cands[0], list(chosen)
        floor = self.model["select"]["min_prob"]
        for cand in cands[1:]:
            if len(out) >= most:
                break
            if cand.logit < best.logit - gap or cand.prob < floor:
                break
            if any(same_sentence(cand.sentence.text, p.sentence.text) for p in out):
                continue  # also each one chosen already: its text is the same as its own
            out.append(cand)
        return out

    @staticmethod
    def _in_reading_order(picked: list[Candidate]) -> list[Candidate]:
        """The passage of the best sentence first, then the others by their best; in a passage, the
        sentences in the order they stand."""
        lead = {}  # each passage's best picked sentence: the passages are read best first
        for c in sorted(picked, key=lambda c: -c.logit):
            lead.setdefault(c.sentence.rank, c.logit)
        return sorted(picked, key=lambda c: (-lead[c.sentence.rank], c.sentence.rank, c.sentence.start))

    def extend(self, question: Question, cands: list[Candidate], picked: list[Candidate]) -> list[Candidate]:
        """For a question asking for several things (a list, "who did X meet?"), the picked sentences
        and the next ones while they score close enough to the best (`list_max_sentences`,
        `list_logit_gap`: fitted, see rag.fit_reader); any other question keeps its pick. The
        confidence is the pick's: only what is shown grows."""
        from rag.short_answer import wants_several

        model = self.model["select"]
        most = model.get("list_max_sentences", 0)
        if not picked or len(picked) >= most or not wants_several(question):
            return picked
        out = self._add_close(cands, picked, most, model["list_logit_gap"])
        return self._in_reading_order(out) if len(out) > len(picked) else picked

    def answer_features(self, question, cands, picked, missing) -> np.ndarray:
        """One row of `ANSWER_FEATURES`: the evidence for the answer as a whole."""
        weights = self.weights(question)
        idx = {n: i for i, n in enumerate(SENTENCE_FEATURES)}
        best = cands[0].features
        second = next((c.logit for c in cands[1:] if not same_sentence(c.sentence.text, cands[0].sentence.text)), -10.0)
        # The question's rarest term that the answer's sentences (and their neighbours) lack. An
        # article's headline sets the scene for all of it ("New bridge opens in Đà Nẵng": "The bridge
        # is 540 metres long" is about Đà Nẵng), so its words count as said.
        said = {t for c in picked for t in terms(f"{c.sentence.text} {c.sentence.passage.title or ''}")}
        around = said | {t for c in picked for t in terms(c.sentence.passage.text)}
        max_idf = self.lexical.idf("\x00") or 1.0

        def lacking(have: set[str]) -> float:
            alts = question.alternatives
            return max((w for t, w in weights.items() if t not in have and not (alts.get(t, frozenset()) & have)), default=0.0)

        return np.asarray(
            [
                cands[0].logit,
                second,
                best[idx["cos"]],
                best[idx["cov"]],
                best[idx["cov_focus"]],
                self.unknown_share(question),
                float(bool(missing)),
                lacking(said) / max_idf,
                lacking(around) / max_idf,
                float(bool(set(_FIGURE.findall(question.text)) - set(_FIGURE.findall(" ".join(c.sentence.text for c in picked))))),
                # A figure or date asked for and missing is telling ("how old is X?" and no age);
                # a name or place asked for and missing much less so (answers name them in many ways).
                best[idx["figure_unfit"]],
                best[idx["name_unfit"]],
                float(bool(_NEGATION.search(fold(question.text)))),
                math.log(1 + len(question.key_terms)),
                best[idx["cos_passage"]],
            ],
            dtype=np.float64,
        )

    @staticmethod
    def missing_names(question: Question, passages: list[Passage]) -> list[str]:
        """Names and numbers of the question found in none of the passages (or their copies)."""
        # A merged copy is also its group head's `also_in`: each text is looked at once.
        texts = list(dict.fromkeys(t for p in passages for t in (p.text, *(loc.text for loc in p.also_in))))
        missing = []
        if question.entities:
            haystack = {w.split("'")[0] for t in texts for w in words(t)}
            for name in question.entities:
                parts = [w for w in words(name) if len(w) > 2 or w == "us"]
                if parts and not all(w in haystack for w in parts):
                    missing.append(name)
        if not question.numbers:
            return missing
        flat = re.sub(r"[^\w.,]+", " ", " " + " ".join(fold(t) for t in texts) + " ")
        for number in question.numbers:
            if not re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d])", flat):
                missing.append(number)
        return missing


def _cos_sum(v: np.ndarray, q: np.ndarray) -> float:
    return float(v @ q / (np.linalg.norm(v) or 1.0))


def _capitalised(sentence: str) -> list[str]:
    """Folded capitalised words after the first word: names, places, organisations."""
    tokens = re.findall(r"[^\W\d_]+", sentence)[1:]
    return [fold(t) for t in tokens if t[:1].isupper()]


def _share(parts: list[set[str]], own: set[str]) -> float:
    """Share of the question's names whose every term `own` holds (1 when it names no one)."""
    if not parts:
        return 1.0
    return sum(p <= own for p in parts) / len(parts)


def _pairs(terms_: list[str]) -> set[tuple[str, str]]:
    """Neighbouring terms (`rag.text.terms` of a text, in order): the text's term bigrams."""
    return set(zip(terms_, terms_[1:], strict=False))
