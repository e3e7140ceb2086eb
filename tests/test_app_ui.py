"""Issue 13, items 2-7: the page as a reader uses it, in Debian's Chromium, on a desktop and a phone.

One app server (over a private copy of the demo corpus) and one browser for the module; the upload
test changes the corpus, so it runs last. UPDATE_SCREENSHOTS=1 writes the README's pictures.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import CHROMIUM, FLAGS, run_app

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
SHOTS = ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOTS") else Path(os.environ.get("TMPDIR", "/tmp"))
Q1 = "How many Vietnamese live in the US?"
Q2 = "Who received Antony Blinken in Hà Nội?"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    data = tmp / "articles"
    shutil.copytree(ROOT / "data/articles", data)
    for url in run_app(tmp, data):
        yield url, data


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: `make test` installs it (make browser)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def _open(browser, url: str, viewport=DESKTOP):
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    page.wait_for_selector("#question textarea")
    page.wait_for_function(
        "() => /\\d+ articles?/.test((document.querySelector('#status')?.innerText || ''))"
    )
    return page


def _ask(page, question: str) -> None:
    """Ask in the box and wait until the answer and its sources are on the page."""
    before = page.locator("#chat .turn .sources").count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        f"() => document.querySelectorAll('#chat .turn .sources').length > {before}", timeout=60000
    )


def _box(page, selector: str) -> dict:
    return page.eval_on_selector(
        selector, "e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; }"
    )


# --------------------------------------------------------------------------- item 2: sources stay with answers


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_after_two_questions_both_answers_keep_their_sources_under_them(ui, browser, viewport):
    url, _ = ui
    page = _open(browser, url, viewport)
    _ask(page, Q1)
    first_quotes = page.locator("#turn-1 .citation mark").all_inner_texts()
    page.click("#turn-1 details.source-list > summary")  # sources fold, and stay folded when the next answer comes
    _ask(page, Q2)
    assert page.eval_on_selector("#turn-1 details.source-list", "d => !d.open")
    page.click("#turn-1 details.source-list > summary")
    turns = page.locator("#chat .turn")
    assert turns.count() == 2
    assert any("2.2 million" in q for q in first_quotes)
    assert page.locator("#turn-1 .citation mark").all_inner_texts() == first_quotes
    assert page.locator("#turn-2 .citation mark").count() >= 1
    # Whom someone received is named first, in bold, before the quotes (issue 13, item 1).
    assert any("Trọng" in t for t in page.locator("#turn-2 .a.short strong").all_inner_texts()), page.inner_text("#turn-2")
    for t in (1, 2):  # question, answer, then that answer's sources, before the next turn
        answer, sources = _box(page, f"#turn-{t} .a"), _box(page, f"#turn-{t} .sources")
        assert answer["bottom"] <= sources["top"] + 1
    assert _box(page, "#turn-1 .sources")["bottom"] <= _box(page, "#turn-2 .q")["top"]
    # The cards name the article, its outlet and date; the file and offsets are small print.
    head = page.inner_text("#turn-2 .citation .card-head")
    assert "Viet Nam News · 15 April 2023" in page.inner_text("#turn-2") and ".txt" not in head
    assert "chars " in page.inner_text("#turn-2 .citation .where")
    # A passage keeps its lines: a heading above a paragraph does not run into it.
    assert page.eval_on_selector("#turn-1 .passage", "e => getComputedStyle(e).whiteSpace") == "pre-line"
    # [n] in the first answer jumps to its own card and highlights it.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    link = page.locator("#turn-1 .a a.cite").first
    target = link.get_attribute("data-card")
    assert target.startswith("src-1-")
    link.click()
    page.wait_for_selector(f"#{target}.hl")
    card = _box(page, f"#{target}")
    assert 0 <= card["top"] < viewport["height"]
    name = "screenshot.png" if viewport is DESKTOP else "screenshot-phone.png"
    if viewport is PHONE:
        page.evaluate("document.querySelector('#turn-2').scrollIntoView({block: 'start'})")
    else:  # the README's picture: the page as it opens, with the first answer and its sources
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / name), full_page=False)
    page.close()


def test_on_a_phone_the_first_source_shows_right_after_the_answer(ui, browser):
    url, _ = ui
    page = _open(browser, url, PHONE)
    _ask(page, Q1)
    _ask(page, Q2)
    time.sleep(0.5)  # the page brings the new turn into view
    answer, card = _box(page, "#turn-2 .a:not(.short)"), _box(page, "#turn-2 .citation")  # below a bold lead, if any
    assert answer["bottom"] <= card["top"] < PHONE["height"], (answer, card)
    assert card["top"] - answer["bottom"] < 120  # the card follows the answer, not the page's other parts
    page.close()


# --------------------------------------------------------------------------- item 4: state


def test_clear_leaves_no_stale_sources_and_export_cites_the_new_answer(ui, browser):
    url, _ = ui
    page = _open(browser, url)
    _ask(page, Q1)
    old_quote = page.inner_text("#turn-1 .citation mark")
    page.click("#clear")
    page.wait_for_function("() => !document.querySelector('#chat .turn')")
    assert page.locator("#chat .citation").count() == 0
    _ask(page, Q2)
    new_quote = page.inner_text("#turn-1 .citation mark")
    page.click("#export")
    page.wait_for_selector("#export-file a[href]", timeout=30000)
    href = page.get_attribute("#export-file a[href]", "href")
    md = page.request.get(href if href.startswith("http") else url.rstrip("/") + href).text()
    assert Q2 in md and Q1 not in md
    assert old_quote not in md and new_quote.strip() in md
    # Item 7: each citation names the article, its outlet and date beside the file and offsets.
    assert "Viet Nam News · 15 April 2023 (`000_90b3eaadf08eafea.txt` [" in md
    page.close()


def test_the_question_box_is_not_rewritten_while_an_answer_streams(ui, browser):
    url, _ = ui
    page = _open(browser, url)
    page.fill("#question textarea", Q2)
    page.press("#question textarea", "Enter")
    page.wait_for_function("() => document.querySelector('#question textarea').value === ''")
    page.type("#question textarea", "And what about trade")  # typed while the answer comes in
    page.wait_for_selector("#turn-1 .sources", timeout=60000)
    time.sleep(0.5)
    assert page.input_value("#question textarea") == "And what about trade"
    page.close()


# --------------------------------------------------------------------------- item 5: controls


def test_active_filters_are_shown_above_the_chat_and_reset_in_one_click(ui, browser):
    url, _ = ui
    page = _open(browser, url)
    assert not page.is_visible("#filter-bar")
    page.click("#filters > button")
    assert page.locator("input[type=range]").count() == 0  # no top-k slider that changes nothing visible
    page.get_by_label("Viet Nam News").check()
    page.fill("#date-from input", "2023-07-01")
    page.press("#date-from input", "Enter")
    page.wait_for_selector("#filter-bar", state="visible")
    page.wait_for_function(
        "() => /1 July 2023/.test((document.querySelector('#filter-bar')?.innerText || ''))"
    )
    # The end date is picked on the date input's calendar, not typed.
    page.click("#date-to button.calendar")
    page.locator("#date-to").get_by_text("15", exact=True).first.click()
    page.locator("#date-to").get_by_text("Done", exact=True).click()
    page.wait_for_function("() => /until 15 /.test((document.querySelector('#filter-bar')?.innerText || ''))")
    assert page.input_value("#date-to input").endswith("-15")
    bar = page.inner_text("#filter-bar")
    assert "Viet Nam News" in bar and "from 1 July 2023" in bar
    assert _box(page, "#filter-bar")["bottom"] <= _box(page, "#chat")["top"]
    _ask(page, "Who did Lê Hoài Trung meet?")
    bylines = page.locator("#turn-1 .citation .byline").all_inner_texts()
    assert bylines and all(b == "Viet Nam News · 3 July 2023" for b in bylines), bylines
    page.click("#filter-bar button")
    page.wait_for_selector("#filter-bar", state="hidden")
    assert not page.get_by_label("Viet Nam News").is_checked()
    assert page.input_value("#date-from input") == "" and page.input_value("#date-to input") == ""
    page.close()


def test_a_source_card_opens_its_article_with_the_passage_marked_and_rows_open_articles(ui, browser):
    url, _ = ui
    page = _open(browser, url, PHONE)
    _ask(page, Q2)
    quote = page.inner_text("#src-1-1 mark")
    page.click("#src-1-1 button.open-article")
    page.wait_for_selector("#article-view mark", timeout=30000)
    assert page.inner_text("#article-view mark") == quote
    time.sleep(0.5)  # the page scrolls the article to the passage
    mark = _box(page, "#article-view mark")
    assert 0 <= mark["top"] < PHONE["height"]
    # A row of the article table opens that article (no passage marked).
    page.get_by_text("US pledges to step up all-around cooperation with Vietnam", exact=True).first.click()
    page.wait_for_function(
        "() => /VOV.VN|Voice of Vietnam/.test((document.querySelector('#article-view')?.innerText || ''))"
    )
    page.wait_for_function("() => !document.querySelector('#article-view mark')")
    assert "Voice of Vietnam" in page.inner_text("#article-view .card-head")
    page.close()


# --------------------------------------------------------------------------- item 6: welcome


def test_the_welcome_says_what_is_here_with_examples_from_the_collection(ui, browser):
    url, _ = ui
    page = _open(browser, url)
    status = page.inner_text("#status")
    assert "5 articles from" in status and "Vietnam News Agency" in status and "Voice of Vietnam" in status
    assert "15 April 2023 to 3 July 2023" in status
    examples = [e for e in page.locator("#examples button").all_inner_texts() if e.strip()]
    assert len(examples) == 3 and len(set(examples)) == 3
    body = page.inner_text("body")
    assert "store:" not in body and "embedder" not in body  # developer details wait behind About
    page.click("#about > button")
    page.wait_for_function("() => /store:/.test((document.querySelector('#about')?.innerText || ''))")
    page.locator("#examples button").first.click()
    page.wait_for_selector("#turn-1 .sources", timeout=60000)
    assert page.locator("#turn-1 .citation").count() >= 1  # an example the articles answer
    page.close()


# --------------------------------------------------------------------------- item 4: uploads, reload (last: changes the corpus)


def test_after_an_upload_and_a_reload_the_new_article_is_listed(ui, browser, tmp_path):
    url, data = ui
    article = tmp_path / "quokka.txt"
    article.write_text(
        "Quokka Island signs a seaweed pact\n\n"
        "The mayor of Quokka Island, Ms Petronella Vargas, signed a seaweed farming pact on May 3, 2024.\n"
        "The pact covers 48 hectares of coastal water {{value}} ${1+1}.\nSource: Quokka Times\n",
        encoding="utf-8",
    )
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    page = _open(browser, url)
    page.set_input_files("#upload input[type=file]", [str(article), str(binary)])
    page.wait_for_function(
        "() => /added 1/.test((document.querySelector('#upload-result')?.innerText || ''))", timeout=60000
    )
    assert "refused binary.txt" in page.inner_text("#upload-result")
    assert not (data / "binary.txt").exists() and (data / "quokka.txt").exists()
    page.wait_for_function("() => !/quokka.txt/.test((document.querySelector('#upload')?.innerText || ''))")
    assert "6 articles" in page.inner_text("#status")
    page.reload()
    page.wait_for_function("() => /6 articles/.test((document.querySelector('#status')?.innerText || ''))")
    assert "Quokka Times" in page.inner_text("#status")
    page.click("#articles > button")
    page.wait_for_function(
        "() => /Quokka Island signs a seaweed pact/.test((document.querySelector('#article-table')?.innerText || ''))"
    )
    page.click("#filters > button")
    # The filters' choices are current too (the accordion renders its children after the click).
    page.get_by_label("Quokka Times").wait_for(state="visible", timeout=10000)
    assert page.get_by_label("Quokka Times").count() == 1
    # Text that looks like the HTML component's template syntax is shown as written.
    _ask(page, "How many hectares does the Quokka Island seaweed pact cover?")
    assert "48 hectares of coastal water {{value}} ${1+1}." in page.inner_text("#turn-1 .citation")
    page.close()
