"""The web UI, started for real on 127.0.0.1, driven by gradio_client and by headless Chromium."""

from __future__ import annotations

import html
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import CHROMIUM, FLAGS, run_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    data = tmp / "articles"
    shutil.copytree(ROOT / "data/articles", data)
    yield from run_app(tmp, data)


def _ask(client, question: str) -> str:
    """The conversation's HTML after asking (a client is one session: its turns accumulate)."""
    return client.predict(question, [], "", "", api_name="/ask")


def _last_turn(page_html: str) -> str:
    return page_html[page_html.rindex('<div class="turn') :]


def test_client_asks_and_gets_answer_with_sources(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    turn = _last_turn(_ask(client, "How many Vietnamese live in the US?"))
    answer, sources = turn.split('<div class="sources"', 1)
    assert "2.2 million" in answer and 'href="#src-1-1"' in answer  # [1] links to its card
    assert "002_b018c1d0f2b14435.txt" in sources and "<mark>" in sources
    assert "Vietnam News Agency" in sources  # the outlet by name, not "VNA"


def test_client_refusal_is_marked_and_cites_nothing(app_url):
    from gradio_client import Client

    turn = _last_turn(_ask(Client(app_url, verbose=False), "What did Blinken say about Taiwan?"))
    assert "🚫" in turn
    assert "Not in the articles" in turn and "<mark>" not in turn


def test_client_upload_then_ask_about_it(app_url, tmp_path):
    from gradio_client import Client, handle_file

    article = tmp_path / "zz_new_article.txt"
    article.write_text(
        "Quokka Island signs a seaweed pact\n\n"
        "The mayor of Quokka Island, Ms Petronella Vargas, signed a seaweed farming pact on May 3, 2024.\n"
        "The pact covers 48 hectares of coastal water.\n",
        encoding="utf-8",
    )
    client = Client(app_url, verbose=False)
    result = client.predict([handle_file(str(article))], api_name="/upload")
    assert "added 1" in result[0]
    turn = _last_turn(_ask(client, "Who signed the seaweed farming pact on Quokka Island?"))
    assert "Petronella Vargas" in turn
    assert "zz_new_article.txt" in turn and "Quokka Island signs a seaweed pact" in turn  # file and title


def test_browser_streams_answer_with_highlighted_citation(app_url):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (make browser)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", "How many Vietnamese live in the US?")
        started = time.perf_counter()
        page.press("#question textarea", "Enter")
        page.wait_for_function(
            "() => /2\\.2 million/.test(document.querySelector('#chat').innerText)", timeout=30000
        )
        first_words = time.perf_counter() - started
        page.wait_for_selector("#sources mark", timeout=30000)
        assert any("2.2 million" in m for m in page.locator("#sources mark").all_inner_texts())
        assert "[1]" in page.inner_text("#chat")
        assert "002_b018c1d0f2b14435.txt" in page.inner_text("#sources")
        page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "rag-ui.png"), full_page=True)
        browser.close()
    print(f"\nbrowser: Enter -> first streamed words in {first_words * 1000:.0f} ms")
    assert first_words < 30


def test_empty_and_overlong_questions_are_declined_politely(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert 'class="turn' not in (_ask(client, "   ") or "")
    long_question = "Who received Blinken? " * 300
    assert 'class="turn' not in _ask(client, long_question)  # declined with a warning, nothing answered


def test_several_users_at_once_are_queued_not_crashed(app_url):
    from gradio_client import Client

    questions = [
        "How many Vietnamese live in the US?",
        "What was two-way trade last year?",
        "Who did Lê Hoài Trung meet in New York?",
        "How many Vietnamese live in the US?",
        "What was two-way trade last year?",
        "Who did Lê Hoài Trung meet in New York?",
    ]
    clients = [Client(app_url, verbose=False) for _ in questions]  # one session each
    jobs = [c.submit(q, [], "", "", api_name="/ask") for c, q in zip(clients, questions, strict=True)]
    results = [job.result(timeout=120) for job in jobs]
    assert all(r.count('<div class="turn"') == 1 for r in results)
    assert "2.2 million" in results[0]


def test_article_opens_full_text(app_url):
    from gradio_client import Client

    shown = Client(app_url, verbose=False).predict("003_c9b450dc786981be.txt", api_name="/article")
    text = (ROOT / "data/articles/003_c9b450dc786981be.txt").read_text(encoding="utf-8")
    body = shown[
        shown.index('<div class="article-text">') + len('<div class="article-text">') : shown.rindex(
            "</div></div>"
        )
    ]
    assert html.unescape(body) == text
    assert "Vietnam Law &amp; Legal Forum" in shown


def test_export_markdown_names_articles_beside_files_and_offsets():
    import app
    from rag.article_names import name_article

    turns = [
        {
            "question": "Q?",
            "answer": {
                "answer": "A. [1]",
                "refused": False,
                "citations": [{"source": "x.txt", "start": 3, "end": 9, "quote": "quoted", "outlet": "VNA"}],
            },
        },
        {"question": "still streaming", "answer": None, "partial": "A"},
    ]
    names = {"x.txt": name_article("x.txt", "Harbour opens", "2024-05-03", "VNA")}
    md = app.export_markdown(turns, names)
    assert "**Q:** Q?" in md and "**A:** A. [1]" in md
    assert "1. *Harbour opens* — Vietnam News Agency · 3 May 2024 (`x.txt` [3:9]): “quoted”" in md
    assert "still streaming" not in md  # only answered turns
