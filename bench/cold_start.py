"""Benchmark: what a person waits for in a new process — `rag ask`, and `make run` until the page answers.

    python bench/cold_start.py [--runs 5] [--no-app]

In one run, on the demo corpus ingested into a temporary store:

- the floor: `python -c "import onnxruntime, tokenizers, chromadb"` (what any ONNX + Chroma
  program pays before doing anything);
- `rag ask "<question>"` in a new process, wall time from spawn to exit;
- the two interleaved, `--runs` times each, medians compared (the issue's target: ask ≤ 2.0× floor);
- where one new process's time goes (import, Assistant(), embedder, lexical index, the question);
- `make run`'s two steps on the ingested store — `rag ingest` (nothing changed) then `python app.py` —
  from the first spawn until the page answers a question through its `ask` API (target ≤ 6 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who received Antony Blinken in Hanoi?"
FLOOR = "import onnxruntime, tokenizers, chromadb"

PHASES = """
import time, json
t0 = time.perf_counter()
from rag import Assistant
t1 = time.perf_counter()
bot = Assistant()
t2 = time.perf_counter()
bot.embedder.get_query_embedding("warm up")
t3 = time.perf_counter()
_ = bot.lexical
t4 = time.perf_counter()
bot.ask(QUESTION)
t5 = time.perf_counter()
print(json.dumps({"import rag": t1 - t0, "Assistant()": t2 - t1, "embedder load": t3 - t2,
                  "lexical index": t4 - t3, "first ask": t5 - t4}))
""".replace("QUESTION", repr(QUESTION))


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_DATA_DIR=str(tmp / "articles"), RAG_STORE_DIR=str(tmp / "store"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               GRADIO_ANALYTICS_ENABLED="False")
    return env


def _wall(args: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_run(env: dict) -> dict:
    """`rag ingest` then `python app.py` (the recipe of `make run` once installed); seconds until answered."""
    from gradio_client import Client  # imported before the clock starts: it is the user's browser

    port = _free_port()
    env = dict(env, RAG_PORT=str(port), RAG_HOST="127.0.0.1")
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest"], env=env, cwd=ROOT, check=True, capture_output=True)
    ingested = time.perf_counter()
    log = tempfile.TemporaryFile()
    app = subprocess.Popen([sys.executable, str(ROOT / "app.py")], env=env, cwd=ROOT, stdout=log, stderr=log)
    try:
        import urllib.request

        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if app.poll() is not None or time.perf_counter() - t0 > 120:
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace")[-2000:]) from None
                time.sleep(0.05)
        page = time.perf_counter()
        client = Client(url, verbose=False)
        result = client.predict(QUESTION, [], "", "", api_name="/ask")  # as tests/test_app.py asks
        answered = time.perf_counter()
        assert "Blinken" in json.dumps(result, ensure_ascii=False), result
    finally:
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()
    return {"rag ingest (unchanged)": ingested - t0, "page served": page - t0, "page answered": answered - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-app", action="store_true", help="skip the `make run` measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rag-cold-") as name:
        tmp = Path(name)
        shutil.copytree(ROOT / "data/articles", tmp / "articles")
        env = _env(tmp)
        _wall([sys.executable, "-m", "rag.cli", "ingest"], env)
        ask = [sys.executable, "-m", "rag.cli", "ask", QUESTION]
        floor = [sys.executable, "-c", FLOOR]
        _wall(ask, env)  # one unmeasured round: the page cache holds the packages for both
        _wall(floor, env)
        floors, asks = [], []
        for _ in range(args.runs):
            floors.append(_wall(floor, env))
            asks.append(_wall(ask, env))
        phases = json.loads(
            subprocess.run([sys.executable, "-c", PHASES], env=env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
        )
        app = None if args.no_app else make_run(env)

    f, a = statistics.median(floors), statistics.median(asks)
    print(f"floor `python -c \"{FLOOR}\"`: median {f:.2f} s  ({', '.join(f'{x:.2f}' for x in floors)})")
    print(f"`rag ask \"{QUESTION}\"`: median {a:.2f} s  ({', '.join(f'{x:.2f}' for x in asks)})")
    print(f"cold-start ratio (ask / floor): {a / f:.2f}x  (target <= 2.0x: {'met' if a / f <= 2.0 else 'NOT met'})")
    print("one new process: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    if app is not None:
        print("make run (rag ingest, then app.py): " + ", ".join(f"{k} {v:.2f} s" for k, v in app.items())
              + f"  (target <= 6 s: {'met' if app['page answered'] <= 6 else 'NOT met'})")


if __name__ == "__main__":
    main()
