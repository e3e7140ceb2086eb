"""`rag eval --squad`: SQuAD scoring on hand-made inputs, the curve, and small real runs (CLI and API)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.eval import squad as S
from rag.models import Citation, Location, Passage

ROOT = Path(__file__).resolve().parents[1]

# Three short SQuAD-shaped articles: a title, a blank line, paragraphs separated by blank lines.
TINY = {
    "glassworks.txt": (
        "Glassworks of Murano\n\n"
        "The glassworks of Murano moved to the island in 1291, when the Venetian Republic ordered the "
        "furnaces out of the city for fear of fire. The island soon held dozens of workshops.\n\n"
        "Murano glassmakers guarded the secret of crystal glass, called cristallo, which Angelo Barovier "
        "perfected in the fifteenth century. Glassmakers were forbidden to leave the Republic."
    ),
    "lighthouse.txt": (
        "The Pharos lighthouse\n\n"
        "The Pharos of Alexandria was built under Ptolemy II and finished around 280 BC. It stood more "
        "than one hundred metres tall on the island of Pharos.\n\n"
        "Earthquakes damaged the lighthouse in the fourteenth century. Its stones were later reused in "
        "the Citadel of Qaitbay, a fortress built in 1477."
    ),
    "tea.txt": (
        "Tea in Darjeeling\n\n"
        "Darjeeling tea is grown on estates in the hills of West Bengal at up to two thousand metres. "
        "The first commercial gardens were planted by the British in the 1850s.\n\n"
        "The tea is picked in flushes; the first flush, harvested in spring, gives a light and floral cup."
    ),
}


def _paragraph(name: str, needle: str) -> tuple[int, int]:
    text = TINY[name]
    at = text.index(needle)
    start = text.rfind("\n\n", 0, at) + 2
    end = text.find("\n\n", at)
    return start, len(text) if end < 0 else end


def _questions() -> list[dict]:
    rows = [
        ("q1", "In what year did the glassworks move to Murano?", ["1291"], "glassworks.txt", "moved to"),
        ("q2", "Under which ruler was the Pharos of Alexandria built?", ["Ptolemy II"], "lighthouse.txt", "Ptolemy"),
        ("q3", "Who planted the first commercial tea gardens in Darjeeling?", ["the British", "British"], "tea.txt",
         "commercial gardens"),
        ("q4", "Who perfected the lighthouse's crystal lamp in 1920?", [], "lighthouse.txt", "Earthquakes"),
    ]
    out = []
    for qid, question, answers, source, needle in rows:
        start, end = _paragraph(source, needle)
        out.append({"id": qid, "question": question, "answers": answers, "answerable": bool(answers),
                    "source": source, "start": start, "end": end})
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny corpus folder and its SQuAD-shaped question file."""
    root = tmp_path_factory.mktemp("squad")
    data = root / "corpus"
    data.mkdir()
    for name, text in TINY.items():
        (data / name).write_text(text, encoding="utf-8")
    qfile = root / "questions.jsonl"
    qfile.write_text("".join(json.dumps(q) + "\n" for q in _questions()), encoding="utf-8")
    return data, qfile


# --- normalisation and containment --------------------------------------------------------------


def test_normalize_is_squad_like():
    assert S.normalize("The  Latin-based, [1] ROOTS of an art!") == "latin based roots of art"
    assert S.normalize("Café über") == "cafe uber"
    assert S.normalize("a an the") == ""


@pytest.mark.parametrize(
    ("gold", "answer", "expected"),
    [
        ("Latin", "It comes from latin roots. [1]", True),
        ("art", "She threw a party. [1]", False),
        ("the Latin", "Latin roots", True),
        ("New York", "a New Yorker wrote it", False),
        ("New York", "born in new york, in 1901", True),
        ("1754 to 1763", "fought from 1754 [1] to 1763 [2]", True),
        ("U.S. Army", "the u.s. army marched", True),
        ("Ptolemy II", "Ptolemy built it", False),
        ("the", "the answer", False),  # nothing left of the gold: never contained
    ],
)
def test_contains_whole_tokens(gold, answer, expected):
    assert S.contains(answer, gold) is expected


def test_word_count_drops_markers():
    assert S.word_count("Ptolemy II built it [1]. It was tall [2][3].") == 7
    assert S.strip_markers("a [1] b[2]") == "a b"


# --- paragraph cited / retrieved -------------------------------------------------------------


ITEM = {"source": "a.txt", "start": 100, "end": 200}


def _cit(source, start, end, also=()):
    return Citation(source=source, quote="x" * (end - start), start=start, end=end,
                    also_in=tuple(Location(s, a, b, "x" * (b - a)) for s, a, b in also))


def test_paragraph_cited_needs_a_citation_inside_the_span_of_the_same_file():
    assert S.paragraph_cited([_cit("a.txt", 100, 200)], ITEM)
    assert S.paragraph_cited([_cit("a.txt", 20, 60), _cit("a.txt", 120, 150)], ITEM)
    assert not S.paragraph_cited([_cit("a.txt", 150, 201)], ITEM)  # runs past the paragraph
    assert not S.paragraph_cited([_cit("a.txt", 99, 150)], ITEM)
    assert not S.paragraph_cited([_cit("b.txt", 120, 150)], ITEM)  # same span, other file
    assert S.paragraph_cited([_cit("b.txt", 0, 40, also=[("a.txt", 130, 170)])], ITEM)  # via also_in
    assert not S.paragraph_cited([], ITEM)


def test_paragraph_retrieved_needs_overlap():
    def passage(source, start, end, also=()):
        return Passage(id="p", source=source, text="x" * (end - start), start=start, end=end, score=1.0,
                       also_in=tuple(Location(s, a, b, "x" * (b - a)) for s, a, b in also))

    assert S.paragraph_retrieved([passage("a.txt", 150, 400)], ITEM)
    assert S.paragraph_retrieved([passage("a.txt", 0, 101)], ITEM)
    assert not S.paragraph_retrieved([passage("a.txt", 0, 100)], ITEM)  # touches, no overlap
    assert not S.paragraph_retrieved([passage("a.txt", 200, 300)], ITEM)
    assert not S.paragraph_retrieved([passage("c.txt", 100, 200)], ITEM)
    assert S.paragraph_retrieved([passage("c.txt", 0, 50, also=[("a.txt", 190, 240)])], ITEM)


# --- curve and calibration -------------------------------------------------------------------


def _row(answerable, refused, contains, confidence):
    return {"answerable": answerable, "refused": refused, "contains": contains, "confidence": confidence}


ROWS = [
    _row(True, False, True, 0.95),
    _row(True, False, True, 0.55),
    _row(True, False, False, 0.15),
    _row(True, True, False, 0.4),  # refused, whatever its confidence
    _row(True, False, True, None),  # None and answered reads 1.0
    _row(False, False, False, 0.7),
    _row(False, False, False, 0.05),
    _row(False, True, False, None),  # None and refused reads 0.0
]


def test_curve_end_points_and_monotonicity():
    pts = S.curve(ROWS)
    assert [p["threshold"] for p in pts] == [round(i * 0.02, 2) for i in range(51)]
    first, last = pts[0], pts[-1]
    # t = 0 refuses nothing new: the actual rates
    assert first["false_refusal_rate"] == pytest.approx(1 / 5)
    assert first["unanswerable_refused"] == pytest.approx(1 / 3)
    assert first["contains"] == pytest.approx(3 / 5)
    assert first["answered"] == 6
    # t = 1 refuses every answer below 1.0: only the confidence-None answer stays
    assert last["false_refusal_rate"] == pytest.approx(4 / 5)
    assert last["unanswerable_refused"] == pytest.approx(1.0)
    assert last["contains"] == pytest.approx(1 / 5)
    assert last["answered"] == 1
    for a, b in zip(pts, pts[1:], strict=False):
        assert b["false_refusal_rate"] >= a["false_refusal_rate"]
        assert b["unanswerable_refused"] >= a["unanswerable_refused"]
        assert b["contains"] <= a["contains"]
        assert b["answered"] <= a["answered"]
    # between 0.56 and 0.70 the 0.55 answer is refused, the 0.7 unanswerable one not yet
    at_06 = next(p for p in pts if p["threshold"] == 0.6)
    assert at_06["false_refusal_rate"] == pytest.approx(3 / 5)
    assert at_06["unanswerable_refused"] == pytest.approx(2 / 3)


def test_calibration_bins_answered_answerable_only():
    bins = S.calibration(ROWS)
    assert [b["bin"] for b in bins] == ["0.0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1.0"]
    assert [b["count"] for b in bins] == [1, 0, 1, 0, 2]  # the refused 0.4 is left out; None = 1.0
    assert bins[0]["contains"] == 0.0 and bins[2]["contains"] == 1.0 and bins[4]["contains"] == 1.0
    assert bins[1]["contains"] is None
    assert [b["count_with_unanswerable"] for b in bins] == [2, 0, 1, 1, 2]
    assert bins[3]["contains_with_unanswerable"] == 0.0


def test_load_squad_sources_and_limit(tiny):
    _, qfile = tiny
    assert [q["id"] for q in S.load_squad(qfile)] == ["q1", "q2", "q3", "q4"]
    assert [q["id"] for q in S.load_squad(qfile, sources=["lighthouse.txt"])] == ["q2", "q4"]
    assert [q["id"] for q in S.load_squad(qfile, sources=["lighthouse.txt", "tea.txt"], limit=2)] == ["q2", "q3"]
    from rag.errors import RagError

    with pytest.raises(RagError, match="no question"):
        S.load_squad(qfile, sources=["missing.txt"])
    with pytest.raises(RagError, match="does not exist"):
        S.load_squad(qfile.parent / "nope.jsonl")


def test_shipped_sample_is_the_seeded_draw():
    lines = (ROOT / "eval/squad2/heldout-sample.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(line) for line in lines]
    assert len(recs) == 120 and sum(r["answerable"] for r in recs) == 60
    assert {r["source"] for r in recs} <= {"force.txt", "french-and-indian-war.txt"}
    # the sample is a subset of the full file, in its order
    full = (ROOT / "eval/squad2/questions.jsonl").read_text(encoding="utf-8").splitlines()
    where = {line: n for n, line in enumerate(full)}
    assert all(line in where for line in lines)
    assert [where[line] for line in lines] == sorted(where[line] for line in lines)


# --- real runs: the API and the CLI ----------------------------------------------------------


@pytest.fixture(scope="module")
def report(tiny, tmp_path_factory):
    from rag import Assistant

    data, qfile = tiny
    bot = Assistant(data_dir=data, store_dir=tmp_path_factory.mktemp("squad_store"), collection="squad")
    return S.run_squad(bot, S.load_squad(qfile), k=5, baseline=True)


def test_run_squad_scores_every_question(report):
    o = report["overall"]
    assert (o["items"], o["answerable"], o["unanswerable"]) == (4, 3, 1)
    assert len(report["rows"]) == 4
    assert o["retrieved_at_k"] == 1.0  # three tiny files: every gold paragraph is among 5 passages
    for row in report["rows"]:
        assert row["contains"] in (True, False)
        assert not (row["refused"] and (row["contains"] or row["gold_paragraph_cited"]))
        assert row.get("latency_s", 0) > 0
    assert len(report["curve"]) == 51 and len(report["calibration"]) == 5
    assert report["baseline"]["name"] == "five-line ranker"
    led = [r for r in report["rows"] if r["leads"]]
    assert o["led"] == len(led) and o["led_unanswerable"] == sum(not r["answerable"] for r in led)
    for row in led:  # a lead is right when it holds a gold answer; never on an unanswerable question
        assert row["lead_right"] == (row["answerable"] and S.contains_any(" ".join(row["leads"]), row["answers"]))


def test_baseline_answers_with_two_verbatim_sentences(report, tiny):
    data, _ = tiny
    for row in report["rows"]:
        b = row["baseline"]
        assert len(b["sentences"]) == 2
        texts = [(data / s["source"]).read_text(encoding="utf-8")[s["start"] : s["end"]] for s in b["sentences"]]
        assert texts[0] != texts[1]
        assert b["answer"] == " ".join(texts)
        assert b["words"] == len(b["answer"].split())
        assert b["sentences"][0]["score"] >= b["sentences"][1]["score"]
    # two sentences about the question's own words: the easy facts are found
    by_id = {r["id"]: r["baseline"] for r in report["rows"]}
    assert by_id["q1"]["contains"] and by_id["q2"]["contains"]


def test_cli_writes_squad_report(tiny, tmp_path):
    from click.testing import CliRunner

    from rag.cli import main

    data, qfile = tiny
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["eval", "--squad", str(qfile), "--data", str(data), "--report", str(out),
               "--sources", "lighthouse.txt,tea.txt,glassworks.txt", "--limit", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "contains gold" in result.output and "five-line" in result.output
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {"meta", "overall", "baseline", "by_source", "curve", "calibration", "rows", "check"} <= set(rep)
    assert {"contains", "gold_paragraph_cited", "retrieved_at_k", "false_refusal_rate", "unanswerable_refused",
            "median_words", "latency_s"} <= set(rep["overall"])
    assert {"contains", "median_words"} <= set(rep["baseline"])
    assert rep["overall"]["items"] == 3 and rep["meta"]["limit"] == 3
    assert {"threshold", "unanswerable_refused", "false_refusal_rate", "contains"} <= set(rep["curve"][0])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3 and "<script" not in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "")
    assert "Refusal trade-off" in page and "Calibration" in page


def test_cli_squad_needs_data(tiny):
    from click.testing import CliRunner

    from rag.cli import main

    _, qfile = tiny
    result = CliRunner().invoke(main, ["eval", "--squad", str(qfile)])
    assert result.exit_code == 1 and "--data" in result.output
