"""Fit the reader (`rag/reader_model.json`) from labelled questions kept in the repo.

    python -m rag.fit_reader [--out rag/reader_model.json]

Data (and only this data):
- SQuAD 2.0 dev questions on the two FIT articles of `eval/squad2/` (imperialism, warsaw), each
  article ingested into a temporary store of its own;
- the news gold set, `eval/gold.jsonl` and `eval/conversations.jsonl`, over `data/articles`, and the
  follow-up conversations written for fitting only, `eval/fit_conversations.jsonl`, and the news
  questions written for fitting only, `eval/fit_news.jsonl` (mostly questions the articles cannot
  answer though they name its people and topics).
The held-out SQuAD articles (force, french-and-indian-war), `eval/heldout.jsonl`, `eval/heldout2.jsonl`,
`eval/heldout3.jsonl` and `eval/heldout4.jsonl` are never read here. `eval/heldout.jsonl`,
`eval/heldout4.jsonl` and the SQuAD sample `eval/squad2/heldout-sample.jsonl` served as the validation sets for choosing among settings (the
operating point, whether to add typed variants); `eval/heldout2.jsonl`, written afterwards and run
once, and the held-out SQuAD articles are what the README's figures are measured on.

What is fitted, in order:
0. the news questions are read as people also type them: each gold question is added lower-cased,
   as keywords only and with a typo (`variants`), with the same facts;
1. the sentence model: logistic regression, P(sentence holds the answer | its features), on the
   sentences of answerable questions (a sentence is positive when it holds a gold answer: for
   SQuAD inside the question's paragraph, for news any spelling of a gold fact);
2. the selection (how many sentences, how close to the best a further one must score): SELECTION,
   chosen on the validation sets like the operating point; a grid search on out-of-fold scores
   (each group scored by a model fitted without it: the most answers holding the gold, with a median
   answer of at most MAX_MEDIAN_WORDS words) is printed beside it for reference;
2b. for a question asking for several things, how many more sentences the answer may show and how
   close to the best they must score (`choose_list_extension`, out of fold; the confidence is the
   pick's, so this changes what is shown, not what is refused);
3. the confidence model: logistic regression on the answer-level features of out-of-fold
   answers, labelled by whether the answer holds the gold; being a logistic fit it is calibrated;
4. the default refusal operating point (`min_confidence`): MIN_CONFIDENCE, chosen on the validation
   sets (see there); the out-of-fold least-cost threshold (refusing an answer that holds the gold
   costs FALSE_REFUSAL_COST, answering an unanswerable question 1) is printed for reference.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.eval.squad import contains
from rag.reader import (
    ANSWER_FEATURES,
    MODEL_PATH,
    SENTENCE_FEATURES,
    Candidate,
    Reader,
    bootstrap_model,
    logistic,
    sigmoid,
)

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / "eval" / "squad2"
FIT_ARTICLES = ("imperialism.txt", "warsaw.txt")
MAX_MEDIAN_WORDS = 40  # the answer stays a reply, not a page: issue 11 asks for a median <= 45
NEWS_FOLDS = 3
FALSE_REFUSAL_COST = 2.0  # a product choice, not a fit: see the operating point in main()
# The shipped operating point, chosen on the validation sets, not on the fitting data: with this
# model, `rag eval` on eval/squad2/heldout-sample.jsonl (2026-12-02, after the second batch of
# eval/fit_news.jsonl joined the fitting data): the lowest threshold (two decimals) that refuses the
# most unanswerable questions of the SQuAD sample while false refusals stay at most 5% (0.15: 21 of 60
# unanswerable and 3 of 60 answerable refused; 0.17 refuses a fourth answerable one, and only 0.19 one
# more unanswerable one; eval/heldout.jsonl: 3 of 45 answerable and 9 of 15 unanswerable refused,
# eval/heldout4.jsonl 1 of 36 and 8 of 10). The out-of-fold least-cost threshold is printed beside it
# (it is pessimistic for SQuAD: each article is scored by a model fitted without it).
MIN_CONFIDENCE = 0.15
# The shipped selection, chosen on the validation sets, not on the fitting data: the grid's best
# settings lie within 0.3 points of each other out of fold (about 4 of 1,300 answers), and which of
# them wins moved with small feature changes; on 2026-12-02 its near-tied alternative (gap 2.5,
# min_prob 0.1) gave the SQuAD sample a median of 46 words and 0.817-0.850 holding the gold, against 36
# words and 0.850-0.867 for this one, and eval/heldout.jsonl 0.802-0.817 against 0.824.
SELECTION = {"max_sentences": 3, "logit_gap": 1.5, "min_prob": 0.02}
# A model's cited sentence must answer the question (rag.generate.verify): the reader's sentence
# logit must reach the level that this share of the sentences holding a gold answer reach (out of fold).
RELEVANCE_RECALL = 0.97
C = 1.0  # inverse regularisation strength of both logistic fits (scikit-learn's default)


@dataclass
class Item:
    """One labelled question as the reader saw it."""

    group: str
    question: object  # rag.question.Question
    passages: list
    sentences: list
    x: np.ndarray
    y: np.ndarray  # per sentence: 1 holds the answer, 0 not
    answerable: bool
    golds: list = field(default_factory=list)  # SQuAD: answer texts; news: fact groups
    kind: str = "squad"
    reader: Reader | None = None
    oof: np.ndarray | None = None  # out-of-fold sentence logits


def holds(item: Item, text: str) -> bool:
    """Does `text` hold the gold answer (SQuAD: any gold answer; news: at least half the facts)?"""
    if not item.answerable:
        return False
    if item.kind == "squad":
        return any(contains(text, g) for g in item.golds)
    covered = [any(contains(text, s) for s in group) for group in item.golds]
    return bool(covered) and sum(covered) >= max(1, len(covered) / 2)


def _bot(data_dir: Path, store_dir: Path):
    from rag import Assistant

    bot = Assistant(data_dir=data_dir, store_dir=store_dir)
    bot.ingest()
    return bot


def _observe(bot, group: str, kind: str, question: str, history, answerable, golds, paragraph=None) -> Item:
    from rag.assistant import ANSWER_DEPTH
    from rag.question import analyse, cited_quotes

    q = analyse(bot.corrected(question), history)  # as Assistant.stream reads it: typos first
    reader = bot.extractive.reader
    passages = bot.retriever.expand(bot.retriever.retrieve(q.search_text, ANSWER_DEPTH))
    sents, x = reader.featurize(q, passages, cited_quotes(history))
    y = np.zeros(len(sents))
    for j, s in enumerate(sents):
        if not answerable:
            continue
        if kind == "squad":
            source, start, end = paragraph
            inside = s.passage.source == source and s.start < end and s.end > start
            y[j] = float(inside and any(contains(s.text, g) for g in golds))
        else:
            y[j] = float(any(contains(s.text, sp) for group in golds for sp in group))
    return Item(group, q, passages, sents, x, y, answerable, golds, kind, reader)


def collect_squad(article: str, tmp: Path) -> list[Item]:
    data = tmp / f"data-{article}"
    data.mkdir()
    shutil.copy(SQUAD / "corpus" / article, data / article)
    bot = _bot(data, tmp / f"store-{article}")
    items = []
    for line in (SQUAD / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["source"] != article:
            continue
        items.append(
            _observe(bot, article, "squad", rec["question"], None, rec["answerable"], rec["answers"],
                     (rec["source"], rec["start"], rec["end"]))
        )
    return items


def variants(question: str, seed: int) -> list[str]:
    """The question as people also type it: lower case without the question mark, keywords only,
    and with one typo (two letters swapped inside its longest word). The facts stay the same."""
    from rag.question import QUESTION_WORDS
    from rag.text import STOPWORDS

    lower = question.lower().rstrip("?").strip()
    keywords = " ".join(w for w in re.findall(r"[^\W_]+(?:[-'’.][^\W_]+)*", lower)
                        if w not in STOPWORDS and w not in QUESTION_WORDS)
    longest = max(re.findall(r"[^\W\d_]{6,}", question), key=len, default=None)
    out = [lower, keywords]
    if longest:
        i = 1 + seed % (len(longest) - 3)
        typo = longest[:i] + longest[i + 1] + longest[i] + longest[i + 2 :]
        out.append(question.replace(longest, typo, 1))
    return [v for v in dict.fromkeys(out) if v and v != question]


def collect_news(tmp: Path) -> list[Item]:
    bot = _bot(ROOT / "data" / "articles", tmp / "store-news")
    items = []
    n = 0
    for name in ("gold.jsonl", "conversations.jsonl", "fit_conversations.jsonl", "fit_news.jsonl"):
        for line in (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            turns = rec.get("turns") or [rec["question"]]
            history: list[dict] = []
            for turn in turns[:-1]:
                earlier = bot.ask(turn, history=history)
                history += [{"role": "user", "content": turn}, {"role": "assistant", "content": earlier.text}]
            # Three folds of news, so that each is scored by models that saw news too; a question's
            # variants stay in its fold.
            group = f"news-{n % NEWS_FOLDS}"
            n += 1
            for text in (turns[-1], *variants(turns[-1], n)):
                items.append(
                    _observe(bot, group, "news", text, history or None, rec.get("answerable", True), rec.get("facts", []))
                )
    return items


# --- fitting -----------------------------------------------------------------------------


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], weight=None) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit((x - mean) / scale, y, sample_weight=weight)
    return {
        "features": list(names),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
    }


def sentence_data(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    """The sentences of answerable questions that have a positive among them (ranking data)."""
    use = [i for i in items if i.answerable and i.y.any()]
    return np.vstack([i.x for i in use]), np.concatenate([i.y for i in use])


def relevance_threshold(items: list[Item]) -> dict:
    """The sentence logit that RELEVANCE_RECALL of the gold-holding sentences reach, out of fold."""
    use = [i for i in items if i.answerable and i.y.any() and i.oof is not None]
    pos = np.concatenate([i.oof[i.y == 1] for i in use])
    neg = np.concatenate([i.oof[i.y == 0] for i in use])
    threshold = float(np.quantile(pos, 1 - RELEVANCE_RECALL))
    print(f"relevance: logit >= {threshold:.3f} keeps {(pos >= threshold).mean():.3f} of gold sentences, "
          f"{(neg >= threshold).mean():.3f} of the others")
    return {"min_logit": round(threshold, 4), "recall": RELEVANCE_RECALL}


def answer_of(item: Item, logits: np.ndarray, select: dict) -> tuple[list[Candidate], list[Candidate]]:
    cands = [Candidate(s, item.x[j], float(logits[j]), float(sigmoid(logits[j]))) for j, s in enumerate(item.sentences)]
    cands.sort(key=lambda c: -c.logit)
    reader = Reader(item.reader.lexical, item.reader.vectors, item.reader.embedder, {"select": select})
    return cands, reader.pick(item.question, cands)


def evaluate_selection(items: list[Item], select: dict) -> tuple[float, float]:
    """(share of answerable items whose answer holds the gold, median answer length in words)."""
    hits, lengths = [], []
    for item in items:
        if not item.answerable or not item.sentences:
            if item.answerable:
                hits.append(False)
            continue
        _, picked = answer_of(item, item.oof, select)
        text = " ".join(c.sentence.text for c in picked)
        hits.append(holds(item, text))
        lengths.append(len(text.split()))
    return float(np.mean(hits)), float(statistics.median(lengths))


def choose_selection(items: list[Item]) -> dict:
    best, best_key = None, None
    for max_sentences in (1, 2, 3):
        for gap in np.arange(0.0, 4.01, 0.25):
            for min_prob in (0.02, 0.05, 0.1, 0.2, 0.3):
                select = {"max_sentences": max_sentences, "logit_gap": float(gap), "min_prob": min_prob}
                groups = {i.group for i in items}
                scores = [evaluate_selection([i for i in items if i.group == g], select) for g in sorted(groups)]
                # News sentences run long (35-45 words): the length bound is set on the SQuAD groups.
                squad = [length for g, (_, length) in zip(sorted(groups), scores, strict=True) if not g.startswith("news")]
                if max(squad) > MAX_MEDIAN_WORDS:
                    continue
                key = float(np.mean([hit for hit, _ in scores]))
                if best_key is None or key > best_key:
                    best, best_key = select, key
    print(f"selection: {best} (mean over groups: holds {best_key:.3f})")
    for g in sorted({i.group for i in items if i.kind == "squad"}) + ["news"]:
        group = [i for i in items if i.group.startswith(g)]
        top1 = evaluate_selection(group, {"max_sentences": 1, "logit_gap": 0, "min_prob": 0})
        top2 = evaluate_selection(group, {"max_sentences": 2, "logit_gap": 99, "min_prob": 0})
        chosen = evaluate_selection(group, best)
        print(f"  {g}: best sentence {top1[0]:.3f} ({top1[1]:.0f} words), best two {top2[0]:.3f} "
              f"({top2[1]:.0f} words), chosen {chosen[0]:.3f} ({chosen[1]:.0f} words)")
    return best


def choose_list_extension(items: list[Item], select: dict) -> dict:
    """How far an answer to a question asking for several things (`Reader.extend`) may run beyond
    the pick: the most out-of-fold list answers holding the gold (mean over the groups), while the
    SQuAD groups' list answers stay within half as long again as one answer may be; the shortest
    of equals. Only what is shown changes: the confidence is the pick's."""
    from rag.short_answer import wants_several

    lists = [i for i in items if i.answerable and i.sentences and wants_several(i.question)]
    best, best_key = {"list_max_sentences": 0, "list_logit_gap": 0.0}, None
    for most in (3, 4, 5):
        for gap in np.arange(1.5, 3.01, 0.5):
            ext = {"list_max_sentences": most, "list_logit_gap": float(gap)}
            held, lengths = {}, {}
            for item in lists:
                cands, _ = answer_of(item, item.oof, select)
                reader = Reader(item.reader.lexical, item.reader.vectors, item.reader.embedder, {"select": {**select, **ext}})
                text = " ".join(c.sentence.text for c in reader.extend(item.question, cands, reader.pick(item.question, cands)))
                group = "news" if item.kind == "news" else item.group
                held.setdefault(group, []).append(holds(item, text))
                lengths.setdefault(group, []).append(len(text.split()))
            if max(statistics.median(v) for g, v in lengths.items() if g != "news") > 1.5 * MAX_MEDIAN_WORDS:
                continue
            key = float(np.mean([np.mean(v) for v in held.values()]))
            if best_key is None or key > best_key + 1e-9:
                best, best_key = ext, key
            print(f"  lists: {ext} holds " + ", ".join(f"{g} {np.mean(v):.3f}" for g, v in sorted(held.items()))
                  + " | median words " + ", ".join(f"{g} {statistics.median(v):.0f}" for g, v in sorted(lengths.items())))
    print(f"list extension: {best} ({len(lists)} list questions)")
    return best


def answer_rows(items: list[Item], select: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answer-level features of each item's out-of-fold answer, its label, and answerable flags."""
    rows, labels, answerable = [], [], []
    for item in items:
        if not item.sentences:
            continue
        cands, picked = answer_of(item, item.oof, select)
        missing = item.reader.missing_names(item.question, item.passages)
        rows.append(item.reader.answer_features(item.question, cands, picked, missing))
        labels.append(float(holds(item, " ".join(c.sentence.text for c in picked))))
        answerable.append(item.answerable)
    return np.asarray(rows), np.asarray(labels), np.asarray(answerable)


def use_bootstrap(tmp: Path) -> None:
    """Conversations' earlier turns are answered by the bootstrap model while collecting, with no
    short-answer lead, so that a refit depends on the data alone, not on the models it replaces
    (the lead's model is fitted from this reader's answers: reading it here made each fit depend
    on the one before), and works when the features changed."""
    import rag.reader
    import rag.short_answer

    path = tmp / "bootstrap.json"
    path.write_text(json.dumps(bootstrap_model()), encoding="utf-8")
    rag.reader.MODEL_PATH = path
    rag.short_answer.MODEL_PATH = tmp / "no-short-answer-model.json"  # absent: no leads


def main() -> None:
    parser = argparse.ArgumentParser(description="Fit the reader's parameters from labelled data in the repo.")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument(
        "--min-confidence", type=float, default=MIN_CONFIDENCE,
        help="the operating point to ship; 'fit' takes the out-of-fold least-cost threshold instead",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        use_bootstrap(Path(tmp))
        items: list[Item] = []
        for article in FIT_ARTICLES:
            items += collect_squad(article, Path(tmp))
            print(f"{article}: {sum(i.group == article for i in items)} questions")
        items += collect_news(Path(tmp))
        print(f"news: {sum(i.kind == 'news' for i in items)} questions")
        groups = sorted({i.group for i in items})

        # 1. sentence model, with out-of-fold logits for every item (leave one group out)
        for g in groups:
            x, y = sentence_data([i for i in items if i.group != g])
            part = fit_logistic(x, y, SENTENCE_FEATURES)
            for i in items:
                if i.group == g and i.sentences:
                    i.oof = logistic(part, i.x)
        x, y = sentence_data(items)
        sentence = fit_logistic(x, y, SENTENCE_FEATURES)
        print("sentence model:", dict(zip(SENTENCE_FEATURES, sentence["coef"], strict=True)))

        # 1b. relevance of a cited sentence to the question, for verifying a model's answer
        verify = relevance_threshold(items)

        # 2. selection: the grid's choice, for reference; SELECTION is shipped
        choose_selection(items)
        select = dict(SELECTION)
        print(f"shipped selection: {select} (chosen on the validation sets; see SELECTION)")
        # 2b. how much further an answer to a list question may run (shown only; fitted here)
        select.update(choose_list_extension(items, select))

        # 3. confidence, checked out of fold, then fitted on every group's out-of-fold answers
        a, label, answerable = answer_rows(items, select)
        group_of = np.asarray([i.group for i in items if i.sentences])
        # News and SQuAD weigh the same in the confidence fit: the news questions are few, but they
        # are the product's own kind (names the articles never mention, questions off the topic).
        domain = np.asarray([i.kind for i in items if i.sentences])
        weight = np.where(domain == "news", (domain != "news").sum() / max((domain == "news").sum(), 1), 1.0)
        oof_conf = np.zeros(len(label))
        for g in groups:
            part = fit_logistic(a[group_of != g], label[group_of != g], ANSWER_FEATURES, weight[group_of != g])
            oof_conf[group_of == g] = sigmoid(logistic(part, a[group_of == g]))
        answer = fit_logistic(a, label, ANSWER_FEATURES, weight)
        print("answer model:", dict(zip(ANSWER_FEATURES, answer["coef"], strict=True)))
        for d in ("squad", "news"):
            for lo in np.arange(0, 1, 0.2):
                inbin = (oof_conf >= lo) & (oof_conf < lo + 0.2) & (domain == d)
                if inbin.any():
                    print(f"  {d} confidence {lo:.1f}-{lo + 0.2:.1f}: n={inbin.sum():4d}  holds {label[inbin].mean():.2f}")

        for t in np.arange(0.05, 0.6, 0.05):
            refused = oof_conf < t
            print(f"  t={t:.2f} " + "  ".join(
                f"{d}: false {refused[answerable & (domain == d)].mean():.3f} unans {refused[~answerable & (domain == d)].mean():.3f}"
                f" holds {(label.astype(bool) & ~refused)[answerable & (domain == d)].mean():.3f}"
                for d in ("squad", "news")))
        # 4. operating point: the threshold of least cost, averaged over the two domains, where refusing
        # an answer that holds the gold costs FALSE_REFUSAL_COST and answering an unanswerable question
        # costs 1: an answer is always cited, so a reader sees when its quote does not answer, while a
        # refusal hides an answer the articles hold.
        def cost(t: float) -> float:
            refused = oof_conf < t
            wrong = np.where(answerable, FALSE_REFUSAL_COST * (refused & label.astype(bool)), ~refused)
            return float(np.mean([wrong[domain == d].mean() for d in ("squad", "news")]))

        min_conf = min((float(round(t, 2)) for t in np.arange(0.0, 0.9, 0.01)), key=lambda t: (cost(t), t))
        print(f"operating point: cost {cost(min_conf):.3f} at {min_conf} (never refusing: {cost(0.0):.3f})")
        refused = oof_conf < min_conf
        for d in ("squad", "news"):
            mine = domain == d
            print(
                f"min_confidence {min_conf} ({d}, out of fold): false refusals "
                f"{refused[answerable & mine].mean():.3f}, unanswerable refused {refused[~answerable & mine].mean():.3f}"
            )
        if args.min_confidence is not None:
            min_conf = args.min_confidence
            print(f"shipped operating point: {min_conf} (chosen on the validation sets; see MIN_CONFIDENCE)")
        select["min_confidence"] = min_conf
        model = {
            "about": "fitted by `python -m rag.fit_reader` on eval/squad2 (fit articles: "
            + ", ".join(FIT_ARTICLES)
            + ") and eval/gold.jsonl + eval/conversations.jsonl + eval/fit_conversations.jsonl + eval/fit_news.jsonl; see rag/fit_reader.py",
            "sentence": sentence,
            "select": select,
            "answer": answer,
            "verify": verify,
        }
        args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
