"""Issue 12, item 12: the clumsy-user footguns. Each is a one-line `RagError` naming the value,
or the obviously right behaviour. Real parts throughout (real Chroma, MiniLM, the `rag` command)."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SMALL_ARTICLES

from rag.config import Settings
from rag.errors import RagError
from rag.models import Answer
from rag.retrieve import Filters

QUESTION = "Who did Nguyễn Phú Trọng receive in Hà Nội?"
TIMEOUT = 240


def rag(env_extra: dict, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               PYTHONIOENCODING="utf-8", **env_extra)
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="backslashreplace", timeout=TIMEOUT)


# --- Assistant.ingest("folder") -------------------------------------------------------------


def test_ingest_of_one_path_as_a_string_ingests_that_folder(make_bot, tmp_path, monkeypatch):
    bot, data = make_bot()
    monkeypatch.chdir(tmp_path)  # a relative name: its characters ("d", "a", ...) name nothing here
    report = bot.ingest(data.name)
    assert sorted(report.added) == sorted(SMALL_ARTICLES) and not report.skipped
    again = bot.ingest(Path(data.name))  # a Path is one path too
    assert sorted(again.unchanged) == sorted(SMALL_ARTICLES) and not again.skipped


@pytest.mark.parametrize("bad", [42, [b"folder"], [""]])
def test_ingest_of_something_not_a_path_is_one_clear_error(make_bot, bad):
    bot, _ = make_bot()
    with pytest.raises(RagError, match="path") as err:
        bot.ingest(bad)
    assert "\n" not in str(err.value)


# --- NFD questions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    # The first was refused in NFD while answered in NFC.
    ["Where did Lê Hoài Trung meet Antony Blinken in 2023?", QUESTION],
)
def test_a_question_with_decomposed_accents_is_answered_like_the_composed_one(demo_bot, question):
    nfd = unicodedata.normalize("NFD", question)
    assert nfd != question
    composed, decomposed = demo_bot.ask(question), demo_bot.ask(nfd)
    assert not composed.refused and not decomposed.refused
    assert decomposed.text == composed.text
    assert [c.quote for c in decomposed.citations] == [c.quote for c in composed.citations]
    assert decomposed.corrected_question == composed.corrected_question
    assert [p.id for p in demo_bot.retrieve(nfd)] == [p.id for p in demo_bot.retrieve(question)]


# --- impossible dates ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("bad", ["2023-13-45", "2023-02-30", "2023-00-10"])
def test_an_impossible_date_is_rejected_naming_it(field, bad):
    with pytest.raises(RagError, match=rf"^{field}='{bad}' is not a real date; use YYYY-MM-DD") as err:
        Filters(**{field: bad})
    assert "\n" not in str(err.value)


def test_real_dates_still_filter():
    assert Filters(date_from="2024-02-29", date_to="2024-12-31").where() is not None


# --- k ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
@pytest.mark.parametrize("call", ["retrieve", "ask", "stream"])
def test_k_that_is_not_a_positive_whole_number_is_one_error_naming_it(demo_bot, call, bad):
    with pytest.raises(RagError, match=rf"^k={bad!r} is not a positive whole number") as err:
        if call == "stream":
            list(demo_bot.stream(QUESTION, k=bad))
        else:
            getattr(demo_bot, call)(QUESTION, k=bad)
    assert "\n" not in str(err.value)


def test_k_as_a_numpy_integer_or_none_works(demo_bot):
    assert len(demo_bot.retrieve(QUESTION, k=np.int64(2))) == 2
    assert len(demo_bot.retrieve(QUESTION, k=None)) == demo_bot.settings.top_k
    assert isinstance(demo_bot.ask(QUESTION, k=np.int32(3)), Answer)


# --- empty RAG_DATA_DIR= / RAG_STORE_DIR= -----------------------------------------------------


def test_an_empty_folder_variable_means_the_default_not_the_current_directory():
    s = Settings.from_env({"RAG_DATA_DIR": "", "RAG_STORE_DIR": "  "})
    assert s.data_dir == Path("data/articles") and s.store_dir == Path("vectorstore")
    assert s.data_dir != Path("") and s.store_dir != Path(".")
    # the same through keyword overrides given as None or ""
    s = Settings.from_env({}, data_dir="", store_dir=None)
    assert s.data_dir == Path("data/articles") and s.store_dir == Path("vectorstore")


# --- RAG_HOST / RAG_PORT ----------------------------------------------------------------------


def test_host_and_port_are_settings_with_safe_defaults():
    s = Settings.from_env({})
    assert (s.host, s.port) == ("127.0.0.1", 7860)
    s = Settings.from_env({"RAG_HOST": "0.0.0.0", "RAG_PORT": "8080"})
    assert (s.host, s.port) == ("0.0.0.0", 8080)
    assert Settings.from_env({"RAG_HOST": "::1"}).host == "::1"
    assert Settings.from_env({"RAG_HOST": "news-bot.example.org"}).host == "news-bot.example.org"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"RAG_PORT": "abc"}, "RAG_PORT='abc' is not a whole number; set it to one from 1 to 65535"),
        ({"RAG_PORT": "99999"}, "RAG_PORT=99999 is out of range; set it to a number from 1 to 65535"),
        ({"RAG_PORT": "0"}, "RAG_PORT=0 is out of range"),
        ({"RAG_HOST": "http://0.0.0.0"}, "RAG_HOST='http://0.0.0.0' is not a host name or IP address"),
        ({"RAG_HOST": "localhost:7860"}, "RAG_HOST='localhost:7860' is not a host name or IP address"),
        ({"RAG_HOST": "300.1.1.1"}, "RAG_HOST='300.1.1.1' is not a host name or IP address"),
        ({"RAG_HOST": "my host"}, "RAG_HOST='my host' is not a host name or IP address"),
    ],
)
def test_a_bad_host_or_port_is_one_line_naming_it(env, message):
    with pytest.raises(RagError) as err:
        Settings.from_env(env)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_rag_serve_with_a_bad_port_says_so_in_one_line(tmp_path):
    done = rag({"RAG_PORT": "abc", "RAG_DATA_DIR": str(tmp_path / "a"), "RAG_STORE_DIR": str(tmp_path / "s")},
               "serve")
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "Error: RAG_PORT='abc' is not a whole number; set it to one from 1 to 65535"


# --- control characters in file names ---------------------------------------------------------


def test_rag_ingest_prints_file_names_with_control_characters_escaped(tmp_path):
    data = tmp_path / "articles"
    data.mkdir()
    text = SMALL_ARTICLES["coffee.txt"]
    (data / "red\x1b[31mnews\x07.txt").write_text(text, encoding="utf-8")
    (data / "two\nlines.txt").write_text(SMALL_ARTICLES["bridge.txt"], encoding="utf-8")
    (data / "evil\x1b]0;title\x07.txt").write_bytes(b"\x00\xff\xfe binary")  # skipped, its name in the reason
    done = rag({"RAG_DATA_DIR": str(data), "RAG_STORE_DIR": str(tmp_path / "store")}, "ingest")
    assert done.returncode == 0, done.stderr[-2000:]
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "added: red\\x1b[31mnews\\x07.txt" in done.stdout
    assert "added: two\\nlines.txt" in done.stdout
    assert "skipped: " in done.stderr and "evil\\x1b]0;title\\x07.txt" in done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("added: ") for line in lines) == 2
