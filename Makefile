# The two commands a new user needs: `make run` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3.11
# pip prints a warning for every missing local index folder of this machine's pip config; hide them.
QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

# Offline and private by default: no model hub, no telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help install run ingest browser test lint bench bench-scale clean

help:
	@echo "make run    set up, ingest data/articles (only what changed), open the web UI"
	@echo "make test   set up and run the whole test suite"
	@echo "make ingest | make lint | make bench | make bench-scale | make clean"

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Error: $(PYTHON) not found; install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: 2.13.0 is a CPU build on this machine's disk. Installing it before the
# rest means no dependency can pull a multi-GB CUDA build of a newer torch.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q --upgrade pip $(QUIET)
	$(PIP) install -q torch==2.13.0 $(QUIET)
	$(PIP) install -q -e '.[dev]' $(QUIET)
	$(PY) -c "import torch, rag.embed; assert torch.__version__.startswith('2.13.0'), torch.__version__; rag.embed.model_dir()"
	@# Export the embedder to ONNX once now (about 15 s), so the first ingest does not wait for it.
	$(PY) -c "import rag.embed as e; e.load_onnx_encoder(e.model_dir())"
	touch $@

install: $(VENV)/.installed

ingest: install
	$(VENV)/bin/rag ingest

run: ingest
	$(PY) app.py

# Debian's Chromium for the browser test (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check rag tests eval bench app.py

bench: install
	$(PY) bench/latency.py

# About 20 minutes on 2 cores: 1k/5k/20k-passage synthetic corpora, ours against naive llama-index.
bench-scale: install
	$(PY) bench/scale.py --passages 1000 5000 20000

clean:
	rm -rf $(VENV) vectorstore/chroma.sqlite3 vectorstore/*-*-*-*-*/
