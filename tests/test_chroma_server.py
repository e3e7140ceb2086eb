"""The same engine on a real Chroma server (`chroma run` on 127.0.0.1), including a server outage."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag import Assistant, RagError

ROOT = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).with_name("chroma")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port, self.proc = path, port, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("chroma run did not start within 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture()
def server(tmp_path):
    srv = ChromaServer(tmp_path / "chroma-data", _free_port())
    srv.start()
    yield srv
    srv.stop()


def _bot(server: ChromaServer, data: Path) -> Assistant:
    return Assistant(chroma_host="127.0.0.1", chroma_port=server.port, data_dir=data, collection="articles")


def test_server_mode_ingests_answers_and_survives_a_restart(server, tmp_path):
    data = tmp_path / "articles"
    shutil.copytree(ROOT / "data/articles", data)
    bot = _bot(server, data)
    report = bot.ingest()
    assert len(report.added) == 5
    assert "chroma server" in bot.stats()["store"]
    answer = bot.ask("How many Vietnamese live in the US?")
    assert not answer.refused and "2.2 million" in answer.text
    for c in answer.citations:
        assert Path(c.path).read_text(encoding="utf-8")[c.start : c.end] == c.quote
    ids_before = sorted(r.id for r in bot.store.all_passages())

    server.stop()
    with pytest.raises(RagError, match=r"cannot reach the Chroma server at http://127\.0\.0\.1"):
        bot.ingest()

    server.start()
    again = _bot(server, data)
    assert again.ingest().unchanged == sorted(p.name for p in data.iterdir())
    ids_after = sorted(r.id for r in again.store.all_passages())
    assert ids_after == ids_before and len(set(ids_after)) == len(ids_after)
    assert "2.2 million" in again.ask("How many Vietnamese live in the US?").text


def test_unreachable_server_is_one_clear_error(tmp_path):
    with pytest.raises(RagError, match=r"cannot reach the Chroma server .*unset RAG_CHROMA_HOST"):
        Assistant(chroma_host="127.0.0.1", chroma_port=_free_port(), data_dir=tmp_path)


def test_cli_reports_unreachable_server_without_traceback(tmp_path):
    env = {"RAG_CHROMA_HOST": "127.0.0.1", "RAG_CHROMA_PORT": str(_free_port()), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "rag.cli", "stats"], env=env, capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.startswith("Error: cannot reach the Chroma server") and "Traceback" not in out.stderr
