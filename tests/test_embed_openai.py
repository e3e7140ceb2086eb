"""OpenAI-compatible embeddings (`RAG_EMBED=openai`), end to end: the real `openai` client over HTTP
against the local server of tests/openai_server.py, real Chroma in tmp dirs, the demo corpus.

Each embedder has its own collection; opening a collection built by the other is one clear error.
"""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import A002, DEMO_FILES, file_text, write_articles

from rag import Assistant, RagError
from rag.cli import main
from rag.embed import MODEL_NAME

sys.path.insert(0, str(Path(__file__).resolve().parent))
from openai_server import OpenAIServer, Reply  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EMBED_MODEL = "test-embed"
OPENAI_COLLECTION = "articles-test-embed-pooled"  # the default collection for RAG_OPENAI_EMBED_MODEL=test-embed
MINILM_COLLECTION = "articles-pooled"  # the default collection for MiniLM
FAST = dict(openai_attempts=2, openai_backoff=0.01, openai_timeout=5.0)


@pytest.fixture(scope="module")
def server():
    with OpenAIServer() as s:
        yield s


@pytest.fixture(autouse=True)
def healthy(server):
    """Every test starts with a server that answers, and leaves it so."""
    server.respond_embeddings(None)
    server.reset()
    yield
    server.respond_embeddings(None)


def openai_settings(server: OpenAIServer, **more) -> dict:
    return dict(
        embed="openai",
        openai_embed_model=EMBED_MODEL,
        openai_base_url=server.url,
        openai_api_key=None,
        **FAST,
        **more,
    )


@pytest.fixture(scope="module")
def shared(tmp_path_factory, server):
    """The demo corpus ingested twice into ONE store dir: by MiniLM and by the OpenAI embeddings."""
    base = tmp_path_factory.mktemp("embed")
    data = base / "articles"
    shutil.copytree(ROOT / "data" / "articles", data)
    store = base / "store"
    minilm = Assistant(store_dir=store, data_dir=data)
    assert minilm.settings.collection == MINILM_COLLECTION
    assert sorted(minilm.ingest().added) == sorted(DEMO_FILES)
    server.reset()
    bot = Assistant(store_dir=store, data_dir=data, **openai_settings(server))
    report = bot.ingest()
    assert sorted(report.added) == sorted(DEMO_FILES) and not report.skipped
    return {"store": store, "data": data, "ingest_requests": list(server.embedding_requests)}


# --- ingest and ask -------------------------------------------------------------------


def test_ingest_and_ask_with_openai_embeddings_cite_the_right_file(shared, server):
    requests = shared["ingest_requests"]
    assert requests, "ingest sent no /v1/embeddings request"
    # The real client's wire format: the model, a list of texts, base64 floats by default.
    body = requests[-1].body
    assert body["model"] == EMBED_MODEL and body["encoding_format"] == "base64"
    assert isinstance(body["input"], list) and all(isinstance(t, str) and t for t in body["input"])

    bot = Assistant(store_dir=shared["store"], data_dir=shared["data"], **openai_settings(server))
    server.reset()
    hits = bot.retrieve("How many Vietnamese live in the US?", k=3)
    assert server.embedding_requests, "the question was not embedded by the endpoint"
    assert A002 in [s for p in hits for s in p.sources]
    answer = bot.ask("How many Vietnamese live in the US?")
    assert not answer.refused and "2.2 million" in answer.text
    cited = [c for c in answer.citations if "2.2 million" in c.quote]
    assert cited and A002 in [cited[0].source, *(loc.source for loc in cited[0].also_in)]
    for c in answer.citations:
        assert file_text(shared["data"] / c.source)[c.start : c.end] == c.quote


def test_each_embedder_has_its_own_collection_in_the_same_store(shared, server):
    openai_bot = Assistant(store_dir=shared["store"], data_dir=shared["data"], **openai_settings(server))
    minilm_bot = Assistant(store_dir=shared["store"], data_dir=shared["data"])
    assert openai_bot.settings.collection == OPENAI_COLLECTION
    assert minilm_bot.settings.collection == MINILM_COLLECTION
    o, m = openai_bot.stats(), minilm_bot.stats()
    assert o["store"] == m["store"]
    assert o["articles"] == m["articles"] == len(DEMO_FILES) and o["passages"] == m["passages"] > 0
    assert EMBED_MODEL in o["embedder"] and "256-d" in o["embedder"] and server.url in o["embedder"]
    assert MODEL_NAME in m["embedder"]
    # Ingesting again with either embedder changes nothing: the manifests are separate too.
    assert len(openai_bot.ingest().unchanged) == len(DEMO_FILES)
    assert len(minilm_bot.ingest().unchanged) == len(DEMO_FILES)


def test_rag_embed_from_the_environment_selects_the_openai_collection(shared, server, monkeypatch):
    monkeypatch.setenv("RAG_EMBED", "openai")
    monkeypatch.setenv("RAG_OPENAI_EMBED_MODEL", EMBED_MODEL)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("RAG_STORE_DIR", str(shared["store"]))
    monkeypatch.setenv("RAG_DATA_DIR", str(shared["data"]))
    result = CliRunner().invoke(main, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["collection"] == OPENAI_COLLECTION and stats["articles"] == len(DEMO_FILES)


# --- the embedder mismatch ------------------------------------------------------------


def test_minilm_collection_opened_with_openai_embeddings_is_a_clear_error(shared, server):
    with pytest.raises(RagError) as info:
        Assistant(store_dir=shared["store"], data_dir=shared["data"], collection=MINILM_COLLECTION, **openai_settings(server))
    message = str(info.value)
    assert "\n" not in message
    assert f"'{MINILM_COLLECTION}'" in message and MODEL_NAME in message and f"openai:{EMBED_MODEL}" in message
    assert "RAG_EMBED=minilm" in message and "RAG_COLLECTION" in message and "rag ingest" in message


def test_openai_collection_opened_with_minilm_is_a_clear_error(shared):
    with pytest.raises(RagError) as info:
        Assistant(store_dir=shared["store"], data_dir=shared["data"], collection=OPENAI_COLLECTION)
    message = str(info.value)
    assert "\n" not in message
    assert OPENAI_COLLECTION in message and f"openai:{EMBED_MODEL}" in message
    assert f"RAG_EMBED=openai RAG_OPENAI_EMBED_MODEL={EMBED_MODEL}" in message and "rag ingest" in message


def test_mismatch_on_the_command_line_is_one_line_without_traceback(shared, server, monkeypatch):
    for name, value in {
        "RAG_EMBED": "openai",
        "RAG_OPENAI_EMBED_MODEL": EMBED_MODEL,
        "OPENAI_BASE_URL": server.url,
        "RAG_COLLECTION": MINILM_COLLECTION,
        "RAG_STORE_DIR": str(shared["store"]),
        "RAG_DATA_DIR": str(shared["data"]),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = CliRunner().invoke(main, ["ask", "How many Vietnamese live in the US?"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: collection '{MINILM_COLLECTION}'") and "Traceback" not in result.output


# --- a failing endpoint -----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_endpoint_is_one_clear_error(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(RagError) as info:
        Assistant(store_dir=tmp_path / "s", embed="openai", openai_base_url=url, openai_api_key=None, **FAST)
    message = str(info.value)
    assert "\n" not in message and url in message and "could not connect after 2 tries" in message
    assert "RAG_EMBED" in message


def test_500s_are_retried_then_fail_cleanly_and_nothing_stored_is_lost(tmp_path, server):
    data = write_articles(tmp_path / "data")
    bot = Assistant(store_dir=tmp_path / "s", data_dir=data, **openai_settings(server))
    assert len(bot.ingest().added) == 3
    before = {r.id: r.text for r in bot.store.all_passages()}
    (data / "coffee.txt").write_text(
        "Coffee exports climb\n\nVietnamese robusta exports fell 3 percent in April, traders said.\n",
        encoding="utf-8",
    )
    server.respond_embeddings(Reply(status=500))
    server.reset()
    with pytest.raises(RagError) as info:
        bot.ingest()
    message = str(info.value)
    assert "\n" not in message and "HTTP 500 after 2 tries" in message and server.url in message
    assert len(server.embedding_requests) == 2  # one retry, then the error
    with pytest.raises(RagError, match="HTTP 500"):
        bot.ask("Where did the jasmine rice harvest break a record?")
    after = {r.id: r.text for r in bot.store.all_passages()}
    assert after == before  # the old coffee passages are still there, nothing half-written

    server.respond_embeddings(None)  # the endpoint is back: the next ingest completes the job
    report = bot.ingest()
    assert report.updated == ["coffee.txt"] and len(report.unchanged) == 2
    answer = bot.ask("How much did robusta exports fall in April?")
    assert any(c.source == "coffee.txt" and "3 percent" in c.quote for c in answer.citations)


def test_a_429_is_retried_and_then_succeeds(tmp_path, server):
    calls = itertools.count()
    server.respond_embeddings(lambda request: Reply(status=429) if next(calls) == 0 else None)
    bot = Assistant(store_dir=tmp_path / "s", data_dir=write_articles(tmp_path / "data"), **openai_settings(server))
    assert len(bot.ingest().added) == 3
    assert next(calls) > 2  # the 429 and the requests after it


# --- rag eval ---------------------------------------------------------------------------


def test_rag_eval_runs_unchanged_with_openai_answers_and_embeddings(tmp_path, server, monkeypatch):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "\n".join((ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()[:3]) + "\n",
        encoding="utf-8",
    )
    conversations = tmp_path / "conversations.jsonl"
    conversations.write_text("", encoding="utf-8")
    data = tmp_path / "articles"
    shutil.copytree(ROOT / "data" / "articles", data)

    def respond(request) -> Reply:
        # The model "quotes" passage [1]: its first line of article text, with the marker.
        passage = request.user.split("<passage id=1", 1)[1].split(">\n", 1)[1].split("\n</passage>", 1)[0]
        return Reply(f"{passage.strip().splitlines()[0]} [1]")

    server.respond(respond)
    for name, value in {
        "RAG_LLM": "openai",
        "RAG_EMBED": "openai",
        "RAG_OPENAI_MODEL": "test-model",
        "RAG_OPENAI_EMBED_MODEL": EMBED_MODEL,
        "OPENAI_BASE_URL": server.url,
        "RAG_DATA_DIR": str(data),
        "RAG_STORE_DIR": str(tmp_path / "store"),
        "RAG_OPENAI_BACKOFF": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    report_dir = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["eval", "--gold", str(gold), "--conversations", str(conversations), "--report", str(report_dir)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["answerer"] == "openai" and report["meta"]["items"] == 3
    overall = report["overall"]
    assert overall["items"] == 3 and overall["hit"] is not None and overall["mrr"] is not None
    assert overall["citations"] > 0 and overall["citation_validity"] == 1.0
    assert report["baseline"]["overall"]["hit"] is not None  # the naive pipeline ran on these embeddings too
    assert len(server.chat_requests) >= 4  # warm-up + 3 questions, through the real client
    assert server.embedding_requests
    assert (report_dir / "report.html").exists()
