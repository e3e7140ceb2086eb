"""The `rag` command through a real subprocess, with the store and data in tmp dirs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ARTICLES, ROOT, file_text

TIMEOUT = 180


def run(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
    )


def base_env(tmp) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_DATA_DIR=str(tmp / "articles"),
        RAG_STORE_DIR=str(tmp / "store"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        PYTHONIOENCODING="utf-8",
    )
    return env


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """A copy of the demo corpus ingested by `rag ingest`; the ingest run is kept for its test."""
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copytree(ARTICLES, tmp / "articles")
    env = base_env(tmp)
    ingest = run(env, "ingest")
    return env, ingest


def assert_clean_error(proc: subprocess.CompletedProcess, *names: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, proc.stderr
    for name in names:
        assert name in errors[0], errors[0]


def test_ingest_prints_a_summary(cli):
    _, proc = cli
    assert proc.returncode == 0, proc.stderr
    assert "added 5" in proc.stdout and "skipped 0" in proc.stdout
    assert "added: 000_90b3eaadf08eafea.txt" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_ingest_again_reports_all_unchanged_as_json(cli):
    env, _ = cli
    proc = run(env, "ingest", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert len(report["unchanged"]) == 5
    assert report["added"] == report["updated"] == report["removed"] == report["skipped"] == []
    assert report["passages_written"] == 0 and report["passages_total"] > 0


def test_ask_json_has_answer_and_verbatim_citations(cli):
    env, _ = cli
    proc = run(env, "ask", "Who received Antony Blinken in Hanoi?", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"answer", "refused", "citations"} <= set(data)
    assert data["refused"] is False
    assert "Trọng" in data["answer"] or "Trong" in data["answer"]
    assert data["citations"]
    for c in data["citations"]:
        assert {"source", "quote", "start", "end"} <= set(c)
        path = os.path.join(env["RAG_DATA_DIR"], c["source"])
        assert file_text(path)[c["start"] : c["end"]] == c["quote"]


def test_ask_json_refusal(cli):
    env, _ = cli
    proc = run(env, "ask", "What did Kamala Harris say about Vietnam?", "--json", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["refused"] is True and data["citations"] == []


def test_ask_plain_text_shows_citations(cli):
    env, _ = cli
    proc = run(env, "ask", "How many Vietnamese live in the US?")
    assert proc.returncode == 0, proc.stderr
    assert "2.2 million" in proc.stdout
    assert "[1] 002_b018c1d0f2b14435.txt [" in proc.stdout


def test_ask_empty_question_is_a_clean_error(cli):
    env, _ = cli
    assert_clean_error(run(env, "ask", "   "), "empty")


def test_stats(cli):
    env, _ = cli
    proc = run(env, "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["articles"] == 5 and info["passages"] > 5
    assert info["collection"] == "articles"
    plain = run(env, "stats")
    assert plain.returncode == 0 and "articles: 5" in plain.stdout


def test_chat_answers_a_question_from_stdin(cli):
    env, _ = cli
    proc = run(env, "chat", stdin="How many Vietnamese live in the US?\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "2.2 million" in proc.stdout and "[1]" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_chat_keeps_going_after_a_bad_question(cli):
    env, _ = cli
    proc = run(env, "chat", stdin=("x" * 3000) + "\nHow many Vietnamese live in the US?\n")
    assert proc.returncode == 0, proc.stderr
    assert "Error:" in proc.stderr and "2.2 million" in proc.stdout


@pytest.mark.parametrize("command", [["stats"], ["ask", "Who is Blinken?"], ["ingest"]])
def test_bad_env_value_is_one_error_line_naming_the_variable(tmp_path, command):
    env = base_env(tmp_path)
    env["RAG_TOP_K"] = "abc"
    assert_clean_error(run(env, *command), "RAG_TOP_K")


def test_ingest_nonexistent_path_fails_naming_it(tmp_path):
    env = base_env(tmp_path)
    proc = run(env, "ingest", "/nonexistent")
    assert proc.returncode != 0
    assert "/nonexistent" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_ingest_bad_file_is_reported_but_others_ingested(tmp_path):
    env = base_env(tmp_path)
    (tmp_path / "articles").mkdir()
    shutil.copy(ARTICLES / "003_c9b450dc786981be.txt", tmp_path / "articles")
    (tmp_path / "articles" / "broken.txt").write_bytes(b"caf\xe9\n")
    proc = run(env, "ingest")
    assert "added: 003_c9b450dc786981be.txt" in proc.stdout
    skipped = [line for line in proc.stderr.splitlines() if "broken.txt" in line]
    assert len(skipped) == 1 and "UTF-8" in skipped[0]
    assert "Traceback" not in proc.stderr
