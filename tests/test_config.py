"""Settings from RAG_* variables: defaults, parsing, and one clear error naming each bad variable."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from rag import RagError, Settings

BAD_VALUES = [
    ("RAG_TOP_K", "abc"),
    ("RAG_TOP_K", "0"),
    ("RAG_TOP_K", "51"),
    ("RAG_TOP_K", "2.5"),
    ("RAG_CHROMA_PORT", "http"),
    ("RAG_CHROMA_PORT", "0"),
    ("RAG_CHROMA_PORT", "70000"),
    ("RAG_LLM", "gpt-5"),
    ("RAG_CHUNK_TOKENS", "ten"),
    ("RAG_CHUNK_TOKENS", "8"),
    ("RAG_CHUNK_TOKENS", "100000"),
    ("RAG_MAX_FILE_MB", "big"),
    ("RAG_MAX_FILE_MB", "0"),
    ("RAG_MAX_FILE_MB", "-1"),
    ("RAG_COLLECTION", "a"),
    ("RAG_COLLECTION", "bad name!"),
    ("RAG_COLLECTION", "-leading-dash"),
    ("RAG_EMBED", "bert"),
]


@pytest.mark.parametrize("name, value", BAD_VALUES, ids=[f"{n}={v}" for n, v in BAD_VALUES])
def test_bad_value_raises_rag_error_naming_the_variable(name, value):
    with pytest.raises(RagError) as info:
        Settings.from_env({name: value})
    message = str(info.value)
    assert name in message and "\n" not in message


def test_defaults_without_environment():
    s = Settings.from_env({})
    assert s.top_k == 5 and s.collection == "articles-pooled" and s.llm == "extractive"
    assert s.data_dir == Path("data/articles") and s.store_dir == Path("vectorstore")
    assert s.chroma_host is None and s.chroma_port == 8000
    assert s.chunk_tokens == 160 and s.max_file_mb == 10.0


def test_good_values_are_parsed_and_trimmed(tmp_path):
    s = Settings.from_env(
        {
            "RAG_DATA_DIR": str(tmp_path / "d"),
            "RAG_STORE_DIR": str(tmp_path / "s"),
            "RAG_COLLECTION": "news-2023",
            "RAG_TOP_K": " 7 ",
            "RAG_CHROMA_HOST": "chroma.local",
            "RAG_CHROMA_PORT": "9000",
            "RAG_LLM": "Extractive",
            "RAG_CHUNK_TOKENS": "256",
            "RAG_MAX_FILE_MB": "0.5",
        }
    )
    assert s.data_dir == tmp_path / "d" and s.store_dir == tmp_path / "s"
    assert (s.collection, s.top_k, s.chroma_host, s.chroma_port) == ("news-2023", 7, "chroma.local", 9000)
    assert (s.llm, s.chunk_tokens, s.max_file_mb) == ("extractive", 256, 0.5)
    assert s.store_location == "chroma server http://chroma.local:9000"


def test_keyword_overrides_win_over_the_environment():
    s = Settings.from_env({"RAG_TOP_K": "7"}, top_k=3)
    assert s.top_k == 3


def test_from_env_reads_os_environ(monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "abc")
    with pytest.raises(RagError, match="RAG_TOP_K"):
        Settings.from_env()


def test_unsupported_answerer_is_refused_by_assistant(tmp_path):
    from rag import Assistant

    with pytest.raises(RagError, match="RAG_LLM"):
        Assistant(llm="openai", store_dir=tmp_path / "s")


def test_unreachable_chroma_server_is_one_clear_error(tmp_path):
    from rag import Assistant

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RagError) as info:
        Assistant(chroma_host="127.0.0.1", chroma_port=port, store_dir=tmp_path / "s")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "RAG_CHROMA_HOST" in message and "\n" not in message


def test_store_dir_that_is_a_file_is_a_clear_error(tmp_path):
    from rag import Assistant

    blocker = tmp_path / "store"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(RagError) as info:
        Assistant(store_dir=blocker)
    assert str(blocker) in str(info.value) or "RAG_STORE_DIR" in str(info.value)


def test_embedder_defaults_to_minilm_and_the_articles_collection():
    s = Settings.from_env({})
    assert (s.embed, s.openai_embed_model, s.collection) == ("minilm", "text-embedding-3-small", "articles-pooled")


def test_openai_embeddings_get_their_own_default_collection():
    env = {"RAG_EMBED": "OpenAI", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}
    s = Settings.from_env(env)
    assert (s.embed, s.collection) == ("openai", "articles-text-embedding-3-small-pooled")
    s = Settings.from_env({**env, "RAG_OPENAI_EMBED_MODEL": "BAAI/bge-m3"})
    assert (s.openai_embed_model, s.collection) == ("BAAI/bge-m3", "articles-baai-bge-m3-pooled")
    # An explicit RAG_COLLECTION is used as given (the Store checks which embedder built it).
    assert Settings.from_env({**env, "RAG_COLLECTION": "news"}).collection == "news"
    assert Settings.from_env({"RAG_EMBED": "openai"}, openai_base_url="http://x/v1", collection=None).collection == (
        "articles-text-embedding-3-small-pooled"
    )


@pytest.mark.parametrize("model", ["x" * 200, "org/Model:v2 (beta)!", "--", "émbed/模型"])
def test_derived_collection_names_keep_chromas_rules_with_room_for_the_manifest(model):
    import re

    s = Settings.from_env({"RAG_EMBED": "openai", "OPENAI_API_KEY": "sk-test", "RAG_OPENAI_EMBED_MODEL": model})
    for name in (s.collection, s.collection + "-files"):
        assert 3 <= len(name) <= 63 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]", name), name


def test_long_model_names_that_share_a_prefix_get_different_collections():
    a = Settings.from_env({"RAG_EMBED": "openai", "OPENAI_API_KEY": "k", "RAG_OPENAI_EMBED_MODEL": "m" * 80 + "a"})
    b = Settings.from_env({"RAG_EMBED": "openai", "OPENAI_API_KEY": "k", "RAG_OPENAI_EMBED_MODEL": "m" * 80 + "b"})
    assert a.collection != b.collection


def test_openai_embeddings_need_a_key_or_a_base_url(tmp_path):
    from rag import Assistant

    with pytest.raises(RagError) as info:
        Settings.from_env({"RAG_EMBED": "openai"})
    message = str(info.value)
    assert "RAG_EMBED=openai" in message and "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message
    assert "\n" not in message
    with pytest.raises(RagError, match="RAG_EMBED"):
        Assistant(embed="openai", openai_api_key=None, openai_base_url=None, store_dir=tmp_path / "s")
    assert not (tmp_path / "s").exists()  # refused before anything was created
