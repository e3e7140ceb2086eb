"""A damaged or empty store, and a Chroma host that is silent or not Chroma: one line each, never a
traceback or a hang (issue 12, items 8 and 9). Real parts only: a real store, real sockets, the real CLI."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import SMALL_ARTICLES

from rag import Assistant, RagError

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, **extra}


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, Path]:
    """A real store, ingested by the CLI from three small articles: (data folder, store folder)."""
    tmp = tmp_path_factory.mktemp("ingested")
    data = tmp / "articles"
    data.mkdir()
    for name, text in SMALL_ARTICLES.items():
        (data / name).write_text(text, encoding="utf-8")
    proc = _cli(_env(RAG_DATA_DIR=str(data), RAG_STORE_DIR=str(tmp / "store")), "ingest")
    assert proc.returncode == 0, proc.stderr
    return data, tmp / "store"


def _damage(db: Path, how: str) -> None:
    raw = db.read_bytes()
    if how == "truncated":
        db.write_bytes(raw[: len(raw) // 3])
    else:
        db.write_bytes(b"\x00garbage\xff" * 400 + raw[4000:])


def _one_line(message: str) -> None:
    assert message and "\n" not in message.strip() and "Traceback" not in message


@pytest.mark.parametrize("how", ["truncated", "garbled"])
def test_damaged_store_is_one_line_naming_the_folder_and_the_rebuild(ingested, tmp_path, how):
    data, store = ingested
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    _damage(copy / "chroma.sqlite3", how)

    env = _env(RAG_DATA_DIR=str(data), RAG_STORE_DIR=str(copy))
    proc = _cli(env, "ask", "How long is the bridge?")
    assert proc.returncode != 0
    _one_line(proc.stderr)
    line = proc.stderr.strip()
    assert line.startswith("Error:") and str(copy.resolve()) in line
    assert "rag ingest" in line and "move the folder aside" in line

    # In process too (a fresh process: chromadb keeps one open system per path).
    code = (
        "from rag import Assistant, RagError\n"
        "try:\n"
        "    Assistant().ask('How long is the bridge?')\n"
        "except RagError as e:\n"
        "    print('RAGERROR', e)\n"
    )
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert got.stdout.startswith("RAGERROR ") and str(copy.resolve()) in got.stdout, got.stdout + got.stderr
    _one_line(got.stdout)


def test_never_ingested_store_says_so_when_asked(tmp_path):
    bot = Assistant(data_dir=tmp_path / "articles", store_dir=tmp_path / "store", collection="articles")
    with pytest.raises(RagError) as err:
        bot.ask("How long is the bridge?")
    message = str(err.value)
    assert "nothing ingested yet" in message and "rag ingest" in message and "don't cover" not in message
    _one_line(message)


# --- a Chroma host that is silent, or is not Chroma ---------------------------------------------


class _SilentServer:
    """Accepts TCP connections and never replies; stops by itself after `life` seconds."""

    def __init__(self, life: float = 20.0) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.deadline = time.time() + life
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while time.time() < self.deadline:
            try:
                conn, _ = self.sock.accept()
                self.held.append(conn)  # keep it open, say nothing
            except OSError:
                continue
        self.close()

    def close(self) -> None:
        self.deadline = 0
        for conn in self.held:
            conn.close()
        self.sock.close()


def _reply(handler: http.server.BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _NotChroma(http.server.BaseHTTPRequestHandler):
    def _page(self) -> None:
        _reply(self, 404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>")

    do_GET = do_POST = do_PUT = do_DELETE = _page

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def silent():
    server = _SilentServer(life=60.0)
    yield server
    server.close()


@pytest.fixture()
def not_chroma():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotChroma)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _ask_in_subprocess(port: int, timeout: float, **extra: str) -> tuple[subprocess.CompletedProcess, float]:
    env = _env(RAG_CHROMA_HOST="127.0.0.1", RAG_CHROMA_PORT=str(port), **extra)
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "How long is the bridge?"],
        env=env, capture_output=True, text=True, cwd=ROOT, timeout=timeout,
    )
    return proc, time.time() - start


def test_silent_chroma_host_times_out_with_one_line(silent, tmp_path):
    started = time.time()
    with pytest.raises(RagError) as err:
        Assistant(
            chroma_host="127.0.0.1", chroma_port=silent.port, chroma_timeout=1, data_dir=tmp_path, collection="articles"
        )
    assert time.time() - started < 8
    message = str(err.value)
    _one_line(message)
    assert f"127.0.0.1:{silent.port}" in message and "RAG_CHROMA_TIMEOUT" in message


def test_silent_chroma_host_cli_is_one_error_line(silent):
    proc, took = _ask_in_subprocess(silent.port, 90, RAG_CHROMA_TIMEOUT="1")
    assert proc.returncode != 0 and took < 20, took  # the server stays silent for 60 s
    _one_line(proc.stderr)
    assert proc.stderr.startswith("Error:") and f"127.0.0.1:{silent.port}" in proc.stderr


def test_non_chroma_http_service_is_one_line(not_chroma, tmp_path):
    with pytest.raises(RagError) as err:
        Assistant(chroma_host="127.0.0.1", chroma_port=not_chroma, data_dir=tmp_path, collection="articles")
    message = str(err.value)
    _one_line(message)
    assert f"127.0.0.1:{not_chroma}" in message and "not a Chroma server" in message

    proc, _ = _ask_in_subprocess(not_chroma, 120)
    assert proc.returncode != 0
    _one_line(proc.stderr)
    assert proc.stderr.startswith("Error:") and "not a Chroma server" in proc.stderr


def test_chroma_timeout_setting_is_validated():
    from rag.config import Settings

    assert Settings.from_env({}).chroma_timeout == 10.0
    assert Settings.from_env({"RAG_CHROMA_TIMEOUT": "2.5"}).chroma_timeout == 2.5
    for bad in ("abc", "0", "-1"):
        with pytest.raises(RagError, match="RAG_CHROMA_TIMEOUT"):
            Settings.from_env({"RAG_CHROMA_TIMEOUT": bad})


class _HeartbeatOnly(http.server.BaseHTTPRequestHandler):
    """Answers Chroma's heartbeat, then sits on every other request (a server stuck after starting)."""

    def do_GET(self) -> None:
        if self.path.endswith("/heartbeat"):
            _reply(self, 200, "application/json", b'{"nanosecond heartbeat": 1}')
            return
        time.sleep(15)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


def test_chroma_host_stuck_after_the_heartbeat_times_out_with_one_line(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HeartbeatOnly)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        started = time.time()
        with pytest.raises(RagError) as err:
            Assistant(chroma_host="127.0.0.1", chroma_port=port, chroma_timeout=1, data_dir=tmp_path)
        assert time.time() - started < 10
        message = str(err.value)
        _one_line(message)
        assert f"127.0.0.1:{port}" in message and "RAG_CHROMA_TIMEOUT" in message
    finally:
        server.shutdown()
        server.server_close()


def test_never_ingested_store_cli_ask_is_one_error_line(tmp_path):
    proc = _cli(_env(RAG_DATA_DIR=str(tmp_path / "articles"), RAG_STORE_DIR=str(tmp_path / "store")), "ask", "Who?")
    assert proc.returncode != 0
    _one_line(proc.stderr)
    assert proc.stderr.startswith("Error: nothing ingested yet") and "rag ingest" in proc.stderr


def test_store_with_a_damaged_row_is_one_error_line_not_a_traceback(ingested, tmp_path):
    """sqlite reads the file, but a row is not UTF-8: chromadb's Rust worker panics when it reads it.
    The panic's own lines reach stderr (printed by Rust, not Python); our message is one line after them."""
    data, store = ingested
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    db = copy / "chroma.sqlite3"
    raw = db.read_bytes()
    assert b"bridge.txt" in raw
    db.write_bytes(raw.replace(b"bridge.txt", b"bridge.t\xff\xfe"))

    proc = _cli(_env(RAG_DATA_DIR=str(data), RAG_STORE_DIR=str(copy), RUST_BACKTRACE="0"), "ask", "How long?")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the store at ") and str(copy.resolve()) in last and "rag ingest" in last
