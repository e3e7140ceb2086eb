"""Chroma, and nothing else: the passage collection and a small manifest of ingested files.

The embedded `PersistentClient` under `RAG_STORE_DIR` is the default; with `RAG_CHROMA_HOST` set,
the same collections live on a Chroma server reached through `HttpClient`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rag.config import POOLED_SUFFIX, Settings
from rag.errors import RagError

_FILES_SUFFIX = "-files"
# Rows per read when paging through the store: Chroma keeps memory of the order of its largest
# reply (5,000 rows held ~80 MiB more at 5k passages than 500 rows, which are also faster).
PAGE = 500


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    metadata: dict


class Store:
    """Passages with their embeddings and metadata, plus one manifest row per ingested file."""

    def __init__(self, settings: Settings, embedder_name: str, dimension: int) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.settings = settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        with self._guard():
            if settings.chroma_host:
                _probe(settings)  # a silent or non-Chroma server: one line, not a hang or a traceback
                self.client = _http_client(settings, chroma_settings)
                self.client.heartbeat()
            else:
                if settings.store_dir.exists() and not settings.store_dir.is_dir():
                    raise RagError(f"{settings.store_dir} is a file, not a folder; set RAG_STORE_DIR to a folder")
                settings.store_dir.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(
                    path=str(settings.store_dir), settings=chroma_settings
                )
            self.passages = self.client.get_or_create_collection(
                settings.collection,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dimension": dimension},
                embedding_function=None,
            )
            self.files = self.client.get_or_create_collection(
                settings.collection + _FILES_SUFFIX, embedding_function=None
            )
        stored = (self.passages.metadata or {}).get("embedder")
        if stored and stored != embedder_name:
            raise RagError(
                f"collection {settings.collection!r} at {settings.store_location} was built with the "
                f"embedder {stored!r}, not {embedder_name!r}; set {_embed_setting(stored, embedder_name)} to use it, or "
                "set RAG_COLLECTION to a new name (or unset it) and run `rag ingest`"
            )
        self.embedder_name = embedder_name
        self._batch = max(1, min(1000, self.client.get_max_batch_size()))

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn a lost connection to a Chroma server, or a corrupt store folder, into one clear line."""
        try:
            yield
        except RagError:
            raise
        except Exception as exc:  # chromadb raises many types for a server that is down
            if self.settings.chroma_host and _is_timeout(exc):
                raise _silent_server(self.settings) from None
            if self.settings.chroma_host and _is_connection_error(exc):
                raise _unreachable(self.settings) from None
            if not self.settings.chroma_host and _is_corrupt(exc):
                folder = self.settings.store_dir.resolve()
                raise RagError(
                    f"the store at {folder} is damaged ({_first_line(exc)}); move the folder aside "
                    f"(or delete it), then run `rag ingest` to rebuild it"
                ) from None
            raise

    # --- the file manifest -------------------------------------------------------------

    def file_records(self) -> dict[str, dict]:
        """source name -> manifest metadata (file hash, path, title, date, outlet, passages)."""
        with self._guard():
            got = self.files.get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def put_files(self, rows: dict[str, dict]) -> None:
        """Manifest rows (source -> metadata), written in one call."""
        if not rows:
            return
        with self._guard():
            sources = list(rows)
            for i in range(0, len(sources), self._batch):
                part = sources[i : i + self._batch]
                self.files.upsert(ids=part, embeddings=[[0.0]] * len(part), metadatas=[rows[s] for s in part])

    def delete_file(self, source: str) -> None:
        with self._guard():
            self.delete_passages(self.passage_ids(source))
            self.files.delete(ids=[source])

    # --- passages --------------------------------------------------------------------

    def passage_ids(self, source: str) -> list[str]:
        with self._guard():
            return list(self.passages.get(where={"source": source}, include=[])["ids"])

    def passage_ids_of(self, sources: list[str]) -> dict[str, set[str]]:
        """source -> ids of its stored passages, for many files in few calls."""
        out: dict[str, set[str]] = {s: set() for s in sources}
        for got in self._get_by_source(sources, ["metadatas"]):
            for pid, meta in zip(got["ids"], got["metadatas"], strict=True):
                out.setdefault(meta["source"], set()).add(pid)
        return out

    def _get_by_source(self, sources: list[str], include: list[str]) -> Iterator[dict]:
        """Chroma `get` replies for the passages of `sources`, a hundred files per call."""
        with self._guard():
            for i in range(0, len(sources), 100):
                yield self.passages.get(where={"source": {"$in": sources[i : i + 100]}}, include=include)

    def add_passages(
        self, ids: list[str], texts: list[str], metadatas: list[dict], embeddings: list[list[float]]
    ) -> None:
        with self._guard():
            for i in range(0, len(ids), self._batch):
                j = i + self._batch
                self.passages.upsert(
                    ids=ids[i:j], documents=texts[i:j], metadatas=metadatas[i:j], embeddings=embeddings[i:j]
                )

    def delete_passages(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._guard():
            for i in range(0, len(ids), self._batch):
                self.passages.delete(ids=ids[i : i + self._batch])

    def embeddings_by_hash(self, hashes: list[str]) -> dict[str, list[float]]:
        """Stored embeddings of passages whose text hash is in `hashes`: identical text is not re-embedded."""
        found: dict[str, list[float]] = {}
        with self._guard():
            for i in range(0, len(hashes), 500):
                got = self.passages.get(
                    where={"content_hash": {"$in": hashes[i : i + 500]}},
                    include=["metadatas", "embeddings"],
                )
                for meta, emb in zip(got["metadatas"], got["embeddings"], strict=True):
                    found[meta["content_hash"]] = [float(x) for x in emb]
        return found

    def query(self, embedding: list[float], n: int, where: dict | None) -> list[tuple[str, float]]:
        """Nearest passages as (id, cosine similarity), best first."""
        with self._guard():
            count = self.passages.count()
            if count == 0:
                return []
            got = self.passages.query(
                query_embeddings=[embedding], n_results=min(n, count), where=where, include=["distances"]
            )
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def all_passages(self) -> list[Record]:
        """Every passage's id, text and metadata (for the lexical index), read in pages."""
        out: list[Record] = []
        with self._guard():
            total = self.passages.count()
            for offset in range(0, total, PAGE):
                out += _records(self.passages.get(include=["documents", "metadatas"], limit=PAGE, offset=offset))
        return out

    def passages_of(self, sources: list[str]) -> list[Record]:
        """The passages of the files named in `sources` (for an incremental lexical index)."""
        return [r for got in self._get_by_source(sources, ["documents", "metadatas"]) for r in _records(got)]

    def count(self) -> int:
        with self._guard():
            return self.passages.count()

    def change_token(self) -> tuple | None:
        """A value that changes whenever any process writes this store, read without asking Chroma:
        the size and modification time of a local store's SQLite files (reading the manifest of
        3,700 files takes a quarter of a second or more). None for a Chroma server (no such value)."""
        if self.settings.chroma_host:
            return None
        out = []
        for name in ("chroma.sqlite3", "chroma.sqlite3-wal"):
            try:
                st = (self.settings.store_dir / name).stat()
                out.append((st.st_mtime_ns, st.st_size, st.st_ino))
            except OSError:
                out.append(None)
        return tuple(out)


def _records(got: dict) -> list[Record]:
    """A Chroma `get` reply (documents and metadatas included) as records."""
    return [Record(i, t, dict(m)) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]


def _embed_setting(embedder_name: str, current: str = "") -> str:
    """The variables that select `embedder_name` again, from `current` (names as recorded by
    rag.embed_openai: POOLED_SUFFIX for RAG_PASSAGE_VECTORS=pooled)."""
    pooled = embedder_name.endswith(POOLED_SUFFIX)
    mode = " RAG_PASSAGE_VECTORS=pooled" if pooled else (" RAG_PASSAGE_VECTORS=encoded" if current.endswith(POOLED_SUFFIX) else "")
    embedder_name = embedder_name.removesuffix(POOLED_SUFFIX)
    if embedder_name.startswith("openai:"):
        return f"RAG_EMBED=openai RAG_OPENAI_EMBED_MODEL={embedder_name.removeprefix('openai:')}{mode}"
    return f"RAG_EMBED=minilm{mode}"


def _unreachable(settings: Settings) -> RagError:
    return RagError(
        f"cannot reach the Chroma server at http://{settings.chroma_host}:{settings.chroma_port}; start it "
        "(`chroma run --path vectorstore --host 127.0.0.1 --port 8000`) or unset RAG_CHROMA_HOST"
    )


def _silent_server(settings: Settings) -> RagError:
    return RagError(
        f"the Chroma server at http://{settings.chroma_host}:{settings.chroma_port} did not reply within "
        f"{settings.chroma_timeout:g} s (RAG_CHROMA_TIMEOUT); check that Chroma runs there and is not stuck, "
        "raise RAG_CHROMA_TIMEOUT for a slow server, or unset RAG_CHROMA_HOST"
    )


def _probe(settings: Settings) -> None:
    """Ask the server's heartbeat, with a timeout, before chromadb does (its client waits forever)."""
    import httpx

    url = f"http://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"
    try:
        reply = httpx.get(url, timeout=settings.chroma_timeout)
    except httpx.TimeoutException:
        raise _silent_server(settings) from None
    except httpx.HTTPError:
        raise _unreachable(settings) from None
    try:
        ok = reply.status_code == 200 and "nanosecond heartbeat" in reply.json()
    except ValueError:
        ok = False
    if not ok:
        kind = reply.headers.get("content-type", "").split(";")[0] or "no content type"
        raise RagError(
            f"http://{settings.chroma_host}:{settings.chroma_port} is not a Chroma server (GET /api/v2/heartbeat "
            f"answered HTTP {reply.status_code}, {kind}); set RAG_CHROMA_HOST and RAG_CHROMA_PORT to where "
            "`chroma run` listens, or unset RAG_CHROMA_HOST"
        )


_BUILDING = threading.Lock()


def _http_client(settings: Settings, chroma_settings):
    """`chromadb.HttpClient` with a timeout on every request. chromadb 1.5's HTTP client waits forever
    for a reply, already while it is built (it asks the server who the user is), and it accepts no
    other class: its `httpx.Client` is made with our timeout while it is built, under a lock."""
    import chromadb
    import chromadb.api.fastapi as chroma_http
    import httpx

    timeout = httpx.Timeout(settings.chroma_timeout)

    class TimedHttpx:
        def __getattr__(self, name: str):
            return getattr(httpx, name)

        @staticmethod
        def Client(*args, **kwargs):  # noqa: N802 - stands in for httpx.Client
            return httpx.Client(*args, **{**kwargs, "timeout": timeout})

    with _BUILDING:
        chroma_http.httpx = TimedHttpx()
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        finally:
            chroma_http.httpx = httpx
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client) or session.timeout != timeout:  # pragma: no cover - another chromadb
        raise RagError("this chromadb version's HTTP client cannot be given a timeout; install chromadb 1.5")
    return client


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _is_corrupt(exc: Exception) -> bool:
    """sqlite's words for a damaged database file (codes 11 SQLITE_CORRUPT and 26 SQLITE_NOTADB)."""
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text
        for word in (
            "file is not a database",
            "malformed",
            "(code: 11)",
            "(code: 26)",
            "database corrupt",
            "request to compactor",  # its worker died reading a damaged row (a Rust panic)
        )
    )


def _is_timeout(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "timeout" in text or "timed out" in text


def _is_connection_error(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text
        for word in ("connect", "connection", "refused", "timeout", "timed out", "unreachable", "resolve")
    )
