"""Settings, read once from `RAG_*` environment variables and validated with messages naming the variable."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import RagError

LLM_MODES = ("extractive", "openai")
EMBED_RUNTIMES = ("onnx", "torch")
# How a passage gets its vector: its own text encoded, or the mean of its sentences' vectors.
PASSAGE_VECTOR_MODES = ("encoded", "pooled")
POOLED_SUFFIX = "+pooled"  # on the embedder name recorded on a pooled collection
EMBED_MODES = ("minilm", "openai")
UNSUPPORTED_MODES = ("drop", "flag")
DEFAULT_COLLECTION = "articles"
ENV_NAMES = {
    "data_dir": "RAG_DATA_DIR",
    "store_dir": "RAG_STORE_DIR",
    "collection": "RAG_COLLECTION",
    "top_k": "RAG_TOP_K",
    "chroma_host": "RAG_CHROMA_HOST",
    "chroma_port": "RAG_CHROMA_PORT",
    "chroma_timeout": "RAG_CHROMA_TIMEOUT",
    "llm": "RAG_LLM",
    "embed": "RAG_EMBED",
    "embed_runtime": "RAG_EMBED_RUNTIME",
    "passage_vectors": "RAG_PASSAGE_VECTORS",
    "chunk_tokens": "RAG_CHUNK_TOKENS",
    "max_file_mb": "RAG_MAX_FILE_MB",
    "openai_model": "RAG_OPENAI_MODEL",
    "openai_embed_model": "RAG_OPENAI_EMBED_MODEL",
    "openai_base_url": "OPENAI_BASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_timeout": "RAG_OPENAI_TIMEOUT",
    "openai_attempts": "RAG_OPENAI_ATTEMPTS",
    "openai_backoff": "RAG_OPENAI_BACKOFF",
    "min_confidence": "RAG_MIN_CONFIDENCE",
    "unsupported": "RAG_UNSUPPORTED",
    "host": "RAG_HOST",
    "port": "RAG_PORT",
    "outlet_names": "RAG_OUTLET_NAMES",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data/articles")
    store_dir: Path = Path("vectorstore")
    collection: str = "articles"
    top_k: int = 5
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_timeout: float = 10.0  # seconds a Chroma server may take to reply (RAG_CHROMA_HOST only)
    llm: str = "extractive"
    embed: str = "minilm"
    embed_runtime: str = "onnx"  # MiniLM on ONNX Runtime or torch: the same vectors, ONNX is faster
    # "pooled" (default): a passage's vector is the word-weighted mean of its sentences' vectors
    # (which the reader and retrieval need anyway), so ingest encodes the text once; "encoded": the
    # passage's text is encoded whole as well (ingest takes about twice as long; see the README).
    passage_vectors: str = "pooled"
    chunk_tokens: int = 160
    max_file_mb: float = 10.0
    openai_model: str = "gpt-4o-mini"
    openai_embed_model: str = "text-embedding-3-small"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_timeout: float = 30.0  # seconds per attempt
    openai_attempts: int = 3  # timeouts, 429 and 5xx are retried this many times in all
    openai_backoff: float = 0.2  # seconds before the 2nd attempt, doubled before each further one
    min_confidence: float | None = None  # refuse below this reader confidence (None: the fitted default)
    # A model sentence no passage supports: "drop" it from the answer text (kept in
    # `Answer.unsupported_sentences`) or "flag" it (left in the text, listed in `Answer.unsupported`).
    unsupported: str = "drop"
    host: str = "127.0.0.1"  # the web UI's address (app.py / `rag serve`)
    port: int = 7860
    outlet_names: Path | None = None  # a file of `CODE = Name` lines extending rag.article_names.OUTLET_NAMES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from `env` (default: `os.environ`); keyword overrides win."""
        env = dict(os.environ if env is None else env)
        # Keyword overrides go through the same validation as the variables they stand for.
        for key in [k for k in overrides if k in ENV_NAMES]:
            value = overrides.pop(key)
            env[ENV_NAMES[key]] = "" if value is None else str(value)
        embed = _choice(env, "RAG_EMBED", "minilm", EMBED_MODES)
        embed_model = _get(env, "RAG_OPENAI_EMBED_MODEL", "") or "text-embedding-3-small"
        passage_vectors = _choice(env, "RAG_PASSAGE_VECTORS", cls.passage_vectors, PASSAGE_VECTOR_MODES)
        s = cls(
            data_dir=Path(_get(env, "RAG_DATA_DIR", "data/articles")),
            store_dir=Path(_get(env, "RAG_STORE_DIR", "vectorstore")),
            collection=_collection(env, embed, embed_model, passage_vectors),
            top_k=_int(env, "RAG_TOP_K", 5, 1, 50),
            chroma_host=_get(env, "RAG_CHROMA_HOST", "") or None,
            chroma_port=_int(env, "RAG_CHROMA_PORT", 8000, 1, 65535),
            chroma_timeout=_float(env, "RAG_CHROMA_TIMEOUT", 10.0, 0.1, 600.0),
            llm=_choice(env, "RAG_LLM", "extractive", LLM_MODES),
            embed=embed,
            embed_runtime=_choice(env, "RAG_EMBED_RUNTIME", cls.embed_runtime, EMBED_RUNTIMES),
            passage_vectors=passage_vectors,
            chunk_tokens=_int(env, "RAG_CHUNK_TOKENS", 160, 32, 2048),
            max_file_mb=_float(env, "RAG_MAX_FILE_MB", 10.0, 0.001, 1024.0),
            openai_model=_get(env, "RAG_OPENAI_MODEL", "gpt-4o-mini"),
            openai_embed_model=embed_model,
            openai_base_url=_get(env, "OPENAI_BASE_URL", "") or None,
            openai_api_key=_get(env, "OPENAI_API_KEY", "") or None,
            openai_timeout=_float(env, "RAG_OPENAI_TIMEOUT", 30.0, 0.01, 600.0),
            openai_attempts=_int(env, "RAG_OPENAI_ATTEMPTS", 3, 1, 10),
            openai_backoff=_float(env, "RAG_OPENAI_BACKOFF", 0.2, 0.0, 60.0),
            min_confidence=(
                _float(env, "RAG_MIN_CONFIDENCE", 0.0, 0.0, 1.0) if _get(env, "RAG_MIN_CONFIDENCE", "") else None
            ),
            unsupported=_choice(env, "RAG_UNSUPPORTED", "drop", UNSUPPORTED_MODES),
            host=_host(env, "RAG_HOST", "127.0.0.1"),
            port=_int(env, "RAG_PORT", 7860, 1, 65535),
            outlet_names=_outlet_names(env),
        )
        s = replace(s, **overrides) if overrides else s
        s.check_llm()
        s.check_embed()
        return s

    def check_llm(self) -> None:
        """With `llm="openai"`, a key or a base URL (a local server) must be set."""
        self._check_mode("RAG_LLM", self.llm, LLM_MODES, "the offline answerer")
        if self.unsupported not in UNSUPPORTED_MODES:
            raise RagError(
                f"RAG_UNSUPPORTED={self.unsupported!r} is not supported; use one of: {', '.join(UNSUPPORTED_MODES)}"
            )

    def check_embed(self) -> None:
        """With `embed="openai"`, a key or a base URL (a local server) must be set."""
        self._check_mode("RAG_EMBED", self.embed, EMBED_MODES, "the offline embedder")

    def _check_mode(self, name: str, value: str, modes: tuple[str, ...], offline: str) -> None:
        if value not in modes:
            raise RagError(f"{name}={value!r} is not supported; use one of: {', '.join(modes)}")
        if value == "openai" and not (self.openai_api_key or self.openai_base_url):
            raise RagError(
                f"{name}=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible "
                f"server); set one, or unset {name} for {offline}"
            )

    @property
    def lexical_path(self) -> Path:
        """Where the lexical index is kept between runs: beside the store, or in the user's cache
        for a Chroma server (it is checked against the server's file fingerprints on every start)."""
        if self.chroma_host:
            cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "lexical"
            return cache / f"{self.chroma_host}-{self.chroma_port}-{self.collection}.pkl"
        return self.store_dir / "rag-lexical" / f"{self.collection}.pkl"

    @property
    def sentence_vectors_path(self) -> Path:
        """The reader's sentence embeddings, kept beside the lexical index."""
        return self.lexical_path.with_name(self.lexical_path.stem + ".sentences.npz")

    @property
    def store_location(self) -> str:
        if self.chroma_host:
            return f"chroma server http://{self.chroma_host}:{self.chroma_port}"
        return str(self.store_dir.resolve())


def _outlet_names(env: Mapping[str, str]) -> Path | None:
    value = _get(env, "RAG_OUTLET_NAMES", "")
    if not value:
        return None
    if not Path(value).is_file():
        raise RagError(f"RAG_OUTLET_NAMES={value!r} is not a file; point it at a file of `CODE = Name` lines")
    return Path(value)


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value, stripped; set but empty (`RAG_DATA_DIR=`) counts as unset, so it
    means the default, never "" (which a path would read as the current directory)."""
    return env.get(name, "").strip() or default


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    return _number(env, name, default, lo, hi, int, "a whole number")


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    return _number(env, name, default, lo, hi, float, "a number")


def _number(env, name, default, lo, hi, cast, kind):
    raw = _get(env, name, str(default))
    try:
        value = cast(raw)
    except ValueError:
        raise RagError(f"{name}={raw!r} is not {kind}; set it to one from {lo} to {hi}") from None
    if not lo <= value <= hi:
        raise RagError(f"{name}={value} is out of range; set it to a number from {lo} to {hi}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _get(env, name, default).lower()
    if value not in choices:
        raise RagError(f"{name}={value!r} is not supported; use one of: {', '.join(choices)}")
    return value


_HOSTNAME = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    """An IP address or a host name, nothing else (no scheme, port, path or spaces)."""
    value = _get(env, name, default)
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(value) or value.replace(".", "").isdigit():
        raise RagError(
            f"{name}={value!r} is not a host name or IP address; use e.g. 127.0.0.1 (this machine only) "
            "or 0.0.0.0 (every interface)"
        )
    return value


def _collection(env: Mapping[str, str], embed: str, embed_model: str, passage_vectors: str = "encoded") -> str:
    """RAG_COLLECTION as given; unset, each embedder (and way of making passage vectors) gets its
    own default collection."""
    value = _get(env, "RAG_COLLECTION", "")
    if not value:
        name = default_collection(embed, embed_model)
        if passage_vectors == "encoded":
            return name
        return _cut(f"{name}-{passage_vectors}", 63 - len("-files"))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{1,60}[A-Za-z0-9]", value):
        raise RagError(
            f"RAG_COLLECTION={value!r} is not a valid name; use 3-62 letters, digits, '.', '_' or '-'"
        )
    return value


def default_collection(embed: str, embed_model: str) -> str:
    """`articles` for MiniLM (existing stores keep working); `articles-<model>` for OpenAI embeddings.

    The name keeps to Chroma's rules (3-63 of [A-Za-z0-9._-], alphanumeric at both ends) with
    room for the manifest's `-files` suffix; a long model name is cut and given a short hash.
    """
    if embed != "openai":
        return DEFAULT_COLLECTION
    slug = re.sub(r"[^a-z0-9._-]+", "-", embed_model.lower())
    slug = re.sub(r"[._-]{2,}", "-", slug).strip("._-") or "model"
    room = 63 - len(DEFAULT_COLLECTION) - len("-") - len("-files")
    return f"{DEFAULT_COLLECTION}-{_cut(slug, room, embed_model)}"


def _cut(name: str, room: int, key: str | None = None) -> str:
    """`name` when it fits in `room` characters; else cut, with a short hash of `key` (default:
    the name) so that different long names stay apart."""
    if len(name) <= room:
        return name
    digest = hashlib.sha1((key or name).encode("utf-8")).hexdigest()[:8]
    return name[: room - 9].rstrip("._-") + "-" + digest
