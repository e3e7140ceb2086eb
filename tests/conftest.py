"""Shared fixtures: one ingested copy of the demo corpus per session, and fresh corpora for tests that mutate.

Everything is real: embedded Chroma under a tmp dir, the MiniLM embedder (loaded once per process,
shared by every Assistant), the extractive answerer.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Settings come from the environment: a developer's RAG_* variables must not leak into the tests.
for _name in [n for n in os.environ if n.startswith("RAG_")]:
    del os.environ[_name]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "data" / "articles"

A000 = "000_90b3eaadf08eafea.txt"
A001 = "001_2fa28d017b05bb05.txt"
A002 = "002_b018c1d0f2b14435.txt"
A003 = "003_c9b450dc786981be.txt"
A004 = "004_e42f3ed233f263fa.txt"
DEMO_FILES = (A000, A001, A002, A003, A004)

# Small hand-written articles for tests that change the corpus. Each has a word no other uses.
SMALL_ARTICLES = {
    "mekong.txt": (
        "Rice harvest in the Mekong Delta\n\n"
        "Farmers in Cần Thơ harvested a record crop of jasmine rice this spring, officials said.\n"
        "The delta produced 24 million tonnes of paddy last year, about half of the national output.\n"
        "Exporters expect shipments to the Philippines to rise by a fifth.\n"
    ),
    "bridge.txt": (
        "New bridge opens in Đà Nẵng\n\n"
        "A cable-stayed bridge across the Hàn River opened to traffic on Sunday after three years of work.\n"
        "The bridge is 540 metres long and cost 1.2 trillion đồng, the city's transport department said.\n"
        "Engineers from Zanzibar Consulting supervised the foundations.\n"
    ),
    "coffee.txt": (
        "Coffee exports climb\n\n"
        "Vietnamese robusta exports climbed 12 percent in the first quarter, the customs office reported.\n"
        "Growers in the Central Highlands province of Đắk Lắk credited the steady rains.\n"
    ),
}


# Debian's Chromium, as `make test` installs it, started so that it reaches no network of its own.
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_app(tmp: Path, data: Path, app: Path | None = None, **extra: str):
    """Ingest `data` and serve app.py (or `app`) on a free 127.0.0.1 port; yields its URL, then stops it."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = dict(
        os.environ,
        RAG_DATA_DIR=str(data),
        RAG_STORE_DIR=str(tmp / "store"),
        RAG_PORT=str(port),
        RAG_HOST="127.0.0.1",
        **extra,
    )
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=env, check=True, capture_output=True, cwd=ROOT)
    log = (tmp / "app.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, str(app or ROOT / "app.py")], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "app.log").read_text()) from None
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("the app did not start within 120 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def file_text(path: str | Path) -> str:
    """A file's text exactly as a reader opens it: the frame every offset refers to."""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def write_articles(folder: Path, articles: dict[str, str | bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (SMALL_ARTICLES if articles is None else articles).items():
        target = folder / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A private copy of data/articles (tests must not depend on, or touch, the real folder)."""
    target = tmp_path_factory.mktemp("demo") / "articles"
    shutil.copytree(ARTICLES, target)
    return target


@pytest.fixture(scope="session")
def demo_bot(demo_dir, tmp_path_factory):
    """The demo corpus ingested once into a tmp store: for read-only tests only."""
    from rag import Assistant

    bot = Assistant(store_dir=tmp_path_factory.mktemp("demo_store"), data_dir=demo_dir, collection="demo")
    report = bot.ingest()
    assert sorted(report.added) == sorted(DEMO_FILES), report.summary()
    assert not report.skipped, report.skipped
    bot.first_report = report
    return bot


@pytest.fixture
def make_bot(tmp_path):
    """Factory: a fresh Assistant over its own data dir and store (for tests that mutate)."""
    from rag import Assistant

    counter = iter(range(1000))

    def factory(articles: dict[str, str | bytes] | None = None, **overrides):
        n = next(counter)
        data = write_articles(tmp_path / f"data{n}", articles)
        overrides.setdefault("store_dir", tmp_path / f"store{n}")
        overrides.setdefault("collection", "articles")
        return Assistant(data_dir=data, **overrides), data

    return factory
