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
    """A copy of the demo corpus plus one broken file, ingested by `rag ingest`.

    Each subprocess loads torch and the model, so the suite runs as few of them as it can:
    ingest once here, then one `ask --json`, one `stats --json`, one `chat`.
    """
    tmp = tmp_path_factory.mktemp("cli")
    shutil.copytree(ARTICLES, tmp / "articles")
    (tmp / "articles" / "broken.txt").write_bytes(b"caf\xe9\n")
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


def test_ingest_prints_a_summary_and_reports_the_bad_file(cli):
    _, proc = cli
    assert proc.returncode == 0, proc.stderr
    assert "added 5" in proc.stdout and "skipped 1" in proc.stdout
    assert "added: 000_90b3eaadf08eafea.txt" in proc.stdout
    skipped = [line for line in proc.stderr.splitlines() if "broken.txt" in line]
    assert len(skipped) == 1 and "UTF-8" in skipped[0]
    assert "Traceback" not in proc.stderr


def test_ask_json_has_answer_and_verbatim_citations(cli):
    env, _ = cli
    proc = run(env, "ask", "Who received Antony Blinken in Hanoi?", "--json", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"answer", "refused", "citations", "confidence", "corrected_question"} <= set(data)
    assert data["refused"] is False
    assert 0.0 <= data["confidence"] <= 1.0
    assert "Trọng" in data["answer"] or "Trong" in data["answer"]
    assert len(data["passages"]) <= 3
    assert data["citations"]
    for c in data["citations"]:
        assert {"source", "quote", "start", "end"} <= set(c)
        path = os.path.join(env["RAG_DATA_DIR"], c["source"])
        assert file_text(path)[c["start"] : c["end"]] == c["quote"]


def test_plain_ask_shows_the_confidence_and_a_refusal_at_a_high_operating_point(cli):
    env, _ = cli
    proc = run(dict(env, RAG_MIN_CONFIDENCE="1"), "ask", "Who received Antony Blinken in Hanoi?")
    assert proc.returncode == 0, proc.stderr
    assert "don't cover this" in proc.stdout
    assert "(below the operating point: refused)" in proc.stdout


def test_stats(cli):
    env, _ = cli
    proc = run(env, "stats", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["articles"] == 5 and info["passages"] > 5
    assert info["collection"] == "articles-pooled"


def test_chat_answers_from_stdin_and_survives_a_bad_question(cli):
    env, _ = cli
    proc = run(env, "chat", stdin=("x" * 3000) + "\nHow many Vietnamese live in the US?\n\n")
    assert proc.returncode == 0, proc.stderr
    assert "2.2 million" in proc.stdout and "[1]" in proc.stdout
    # Citations name the article and its outlet (issue 13 item 3), then the file and offsets.
    assert "[1] Positive outcomes in the Vietnam-US relations" in proc.stdout and "— Vietnam News Agency" in proc.stdout
    assert "    002_b018c1d0f2b14435.txt [" in proc.stdout
    assert "Error:" in proc.stderr and "characters" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_env_value_is_one_error_line_naming_the_variable(tmp_path):
    env = base_env(tmp_path)
    env["RAG_TOP_K"] = "abc"
    assert_clean_error(run(env, "stats"), "RAG_TOP_K")


def test_ingest_nonexistent_path_fails_naming_it(tmp_path):
    env = base_env(tmp_path)
    proc = run(env, "ingest", "/nonexistent")
    assert proc.returncode != 0
    assert "/nonexistent" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_an_answer_more_likely_to_miss_than_to_hold_says_so():
    from rag.cli import format_answer
    from rag.models import Answer

    def shown(confidence, refused=False, mode="extractive"):
        return format_answer(Answer("Q?", "Some sentence. [1]", [], refused, [], mode=mode, confidence=confidence))

    assert "Not sure this answers what you asked (confidence 0.31)" in shown(0.31)
    assert "Not sure" not in shown(0.74)
    assert "Not sure" not in shown(0.1, refused=True) and "Not sure" not in shown(0.1, mode="openai")
