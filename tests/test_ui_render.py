"""The page's pieces without a browser: the conversation's HTML, the welcome's example questions."""

from __future__ import annotations

from rag.article_names import name_article
from rag.ui.collection import _examples
from rag.ui.render import conversation_html, export_markdown
from rag.ui.uploads import drop_skipped

CITATION = {
    "source": "x.txt",
    "start": 10,
    "end": 16,
    "quote": "quoted",
    "outlet": "VNS",
    "passage": {"start": 0, "end": 30, "text": "Before <b> quoted <img src=x>"},
}


def _turn(question: str, text: str, citations=(CITATION,)) -> dict:
    return {"question": question, "answer": {"answer": text, "refused": False, "citations": list(citations)}}


def test_every_turn_keeps_its_cards_and_links_point_to_its_own():
    names = {"x.txt": name_article("x.txt", "Harbour <opens>", "2024-05-03", "VNS")}
    page = conversation_html([_turn("First <q>?", "One [1] and [2]."), _turn("Second?", "Two [1].")], names)
    assert page.count('class="citation"') == 2
    assert 'href="#src-1-1"' in page and 'href="#src-2-1"' in page and 'id="src-2-1"' in page
    assert "[2]" in page and 'href="#src-1-2"' not in page  # no card 2: no link
    assert page.count('id="sources"') == 1 and page.index('id="sources"') > page.index('id="turn-2"')
    assert "<img" not in page and "<b>" not in page and "&lt;q&gt;" in page and "Harbour &lt;opens&gt;" in page
    assert "Viet Nam News · 3 May 2024" in page


def test_example_questions_come_from_the_collection(tmp_path):
    files = []
    for i, text in enumerate(
        [
            "Ms Petronella Vargas opened the port. Petronella Vargas said it was a good day.\n",
            "The port of Quillon Bay grew. Mayor Petronella Vargas met Barnaby Toller on Monday.\n",
            "Barnaby Toller sails the ferry. Ingrid Solberg counts otters.\n",
        ]
    ):
        path = tmp_path / f"{i}.txt"
        path.write_text(text, encoding="utf-8")
        files.append((str(path), i))
    asked = []
    questions = _examples(tuple(files), 3, lambda q: asked.append(q) or "Who is" not in q)
    assert len(questions) == 3
    assert "Petronella Vargas" in questions[0] and "Barnaby Toller" in questions[1]
    assert all("Who is" not in q for q in questions)  # only questions the articles answer
    assert any(q.startswith("Who is") for q in asked)  # another wording was tried instead


def test_an_upload_the_ingest_skips_is_not_kept(tmp_path):
    kept, skipped = tmp_path / "kept.txt", tmp_path / "skipped.txt"
    for p in (kept, skipped):
        p.write_text("Text\n", encoding="utf-8")
    dropped = drop_skipped([kept, skipped], [("skipped.txt", "no passages could be made from it")])
    assert dropped == [skipped] and kept.exists() and not skipped.exists()


def test_the_answer_s_lead_line_shows_first_in_bold_and_links_too():
    # As rag.answer.compose writes it: the lead line, a newline, the quoted sentences.
    turn = _turn("Q?", "**Short <b>** [1]\nThe long answer [1].")
    turn["answer"]["leads"] = [dict(CITATION, quote="Short <b>")]
    page = conversation_html([turn], {})
    assert page.index('class="a short"') < page.index("The long answer")
    assert "<strong>Short &lt;b&gt;</strong>" in page and page.count('href="#src-1-1"') == 2
    assert "**" not in page
    markdown = export_markdown([turn], {})
    assert "**A:** **Short <b>** [1]\n\nThe long answer [1]." in markdown
    # Without leads the text is shown as it is, one block.
    plain = conversation_html([_turn("Q?", "The long answer [1].")], {})
    assert 'class="a short"' not in plain


def test_an_answer_more_likely_to_miss_than_to_hold_says_so_under_it():
    shaky, sure = _turn("How much did it cost?", "The embassy opened [1]."), _turn("Q?", "Sure [1].")
    shaky["answer"].update(confidence=0.23, mode="extractive")
    sure["answer"].update(confidence=0.81, mode="extractive")
    page = conversation_html([shaky, sure], {})
    assert page.count('class="unsure"') == 1 and "confidence 0.23" in page
    assert page.index('class="unsure"') < page.index('class="sources') < page.index('id="turn-2"')  # under the answer
    assert "*Not sure this answers what you asked (confidence 0.23)" in export_markdown([shaky, sure], {})
    refused = _turn("Q?", "The articles don't cover this.", citations=())
    refused["answer"].update(confidence=0.1, refused=True, mode="extractive")
    model = _turn("Q?", "A model's verified reply [1].")
    model["answer"].update(confidence=0.1, mode="openai")
    assert 'class="unsure"' not in conversation_html([refused, model], {})
