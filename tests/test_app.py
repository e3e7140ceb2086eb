"""The web UI, started for real on 127.0.0.1, driven by gradio_client and by headless Chromium."""

from __future__ import annotations

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


def _ask(client, question: str, history=None):
    return client.predict(question, history or [], [], "", "", 5, api_name="/ask")


def test_client_asks_and_gets_answer_with_sources(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    chat, box, sources = _ask(client, "How many Vietnamese live in the US?")
    reply = chat[-1]["content"][0]["text"]
    assert "2.2 million" in reply and "[1]" in reply
    assert box == ""
    assert "002_b018c1d0f2b14435.txt" in sources and "<mark>" in sources


def test_client_refusal_is_marked_and_cites_nothing(app_url):
    from gradio_client import Client

    chat, _, sources = _ask(Client(app_url, verbose=False), "What did Blinken say about Taiwan?")
    assert chat[-1]["content"][0]["text"].startswith("🚫")
    assert "Not in the articles" in sources and "<mark>" not in sources


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
    chat, _, sources = _ask(client, "Who signed the seaweed farming pact on Quokka Island?")
    assert "Petronella Vargas" in chat[-1]["content"][0]["text"]
    assert "zz_new_article.txt" in sources


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
        assert "2.2 million" in page.inner_text("#sources mark")
        assert "[1]" in page.inner_text("#chat")
        assert "002_b018c1d0f2b14435.txt" in page.inner_text("#sources")
        out = ROOT / "docs" / "screenshot.png" if os.environ.get("RAG_UPDATE_SCREENSHOT") else None
        page.screenshot(path=str(out or Path(os.environ.get("TMPDIR", "/tmp")) / "rag-ui.png"), full_page=True)
        browser.close()
    print(f"\nbrowser: Enter -> first streamed words in {first_words * 1000:.0f} ms")
    assert first_words < 30


def test_empty_and_overlong_questions_are_declined_politely(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    chat, box, _ = _ask(client, "   ")
    assert chat == []
    long_question = "Who received Blinken? " * 300
    chat, box, _ = _ask(client, long_question)
    assert chat == [] and box == long_question  # nothing answered, the text is left to edit


def test_several_users_at_once_are_queued_not_crashed(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    questions = [
        "How many Vietnamese live in the US?",
        "What was two-way trade last year?",
        "Who did Lê Hoài Trung meet in New York?",
        "How many Vietnamese live in the US?",
        "What was two-way trade last year?",
        "Who did Lê Hoài Trung meet in New York?",
    ]
    jobs = [client.submit(q, [], [], "", "", 5, api_name="/ask") for q in questions]
    results = [job.result(timeout=120) for job in jobs]
    assert all(len(chat) == 2 for chat, _, _ in results)
    assert "2.2 million" in results[0][0][-1]["content"][0]["text"]


def test_article_opens_full_text(app_url):
    from gradio_client import Client

    text = Client(app_url, verbose=False).predict("003_c9b450dc786981be.txt", api_name="/article")
    assert text == (ROOT / "data/articles/003_c9b450dc786981be.txt").read_text(encoding="utf-8")


def test_export_markdown_lists_citations():
    import app

    history = [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A. [1]"}]
    answers = [{"citations": [{"source": "x.txt", "start": 3, "end": 9, "quote": "quoted"}]}]
    md = app.export_markdown(history, answers)
    assert "**Q:** Q?" in md and "**A:** A. [1]" in md and "`x.txt` [3:9] — “quoted”" in md
