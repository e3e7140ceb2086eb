"""A question in a new process loads only what answering uses: no torch, llama-index, nltk, UI or LLM client."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

# Loaded only by the commands that use them: torch and sentence-transformers (RAG_EMBED_RUNTIME=torch,
# the ONNX export), llama-index and nltk (splitting at ingest), gradio (the UI), openai (RAG_LLM=openai).
NEVER_TO_ANSWER = (
    "torch", "sentence_transformers", "transformers", "llama_index", "nltk", "gradio", "openai", "sklearn",
)


def _loaded_after(code: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_importing_the_assistant_loads_no_heavy_package():
    loaded = _loaded_after("import rag.assistant, rag.cli")
    assert not loaded & set(NEVER_TO_ANSWER), sorted(loaded & set(NEVER_TO_ANSWER))


def test_a_question_in_a_new_process_loads_no_heavy_package(demo_bot):
    s = demo_bot.settings
    loaded = _loaded_after(
        "from rag import Assistant\n"
        f"bot = Assistant(store_dir={str(s.store_dir)!r}, data_dir={str(s.data_dir)!r}, collection={s.collection!r})\n"
        "answer = bot.ask('Who received Antony Blinken in Hanoi?')\n"
        "assert answer.citations and not answer.refused, answer\n"
        # as `rag ask` prints it: each source named by its title or headline, outlet and date
        "from rag.cli import format_answer\n"
        "assert 'Vietnam News Agency' in format_answer(answer)\n"
    )
    assert {"chromadb", "onnxruntime", "tokenizers"} <= loaded
    assert not loaded & set(NEVER_TO_ANSWER), sorted(loaded & set(NEVER_TO_ANSWER))
