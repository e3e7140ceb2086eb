"""A small OpenAI-compatible HTTP server for tests: stdlib `http.server` in a thread on 127.0.0.1.

It speaks the real wire format, so the real `openai` client talks to it over HTTP:

- POST /v1/chat/completions, whole (`chat.completion` JSON) or streamed (`stream: true`: SSE
  `data: {chat.completion.chunk}\\n\\n` events, then `data: [DONE]\\n\\n`);
- POST /v1/embeddings (a hashed bag of accent-folded words, L2-normalised: texts sharing words
  are near, so retrieval with these vectors finds the right passages; `encoding_format` float or
  base64, as the client asks);
- GET /v1/models.

Each test scripts it with `server.respond(fn)`: `fn(request)` gets the parsed `Request` and
returns a `Reply` (content, HTTP status, delay, chunking) or just the reply text;
`server.respond_embeddings(fn)` scripts embedding failures the same way (`fn` returns a `Reply`
with a status or delay, or None for the normal vectors). Every request is recorded in
`server.requests`, so a test can count attempts and read the prompt.

    with OpenAIServer() as server:
        server.respond(lambda req: Reply("Hello [1]", chunk_words=1))
        client = openai.OpenAI(base_url=server.url, api_key="x")
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What the server answers to one request."""

    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering (longer than the client's timeout: a timeout)
    chunk_words: int = 2  # streamed replies: words per SSE chunk
    error: str | None = None  # error message for a non-200 status


@dataclass
class Request:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict = field(default_factory=dict)

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return "\n".join(m.get("content", "") for m in self.messages if m.get("role") == "system")

    @property
    def user(self) -> str:
        """The last user message's text."""
        users = [m.get("content", "") for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


Responder = Callable[[Request], "Reply | str"]

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_api_key", 429: "rate_limit_exceeded"}


class OpenAIServer:
    """Start with `start()` (or `with`), stop with `stop()`; `url` is the base URL ending in /v1."""

    def __init__(self, model: str = "test-model", embedding_dim: int = 256) -> None:
        self.model = model
        self.embedding_dim = embedding_dim
        self.requests: list[Request] = []
        self._responder: Responder = lambda request: Reply("")
        self._embed_responder: Callable[[Request], Reply | None] = lambda request: None
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def respond(self, fn: Responder | Reply | str) -> None:
        """Script the chat replies: a callable of the request, or one fixed `Reply` / text."""
        if callable(fn):
            self._responder = fn
        else:
            self._responder = lambda request: fn
        self.reset()

    def respond_embeddings(self, fn: Callable[[Request], Reply | None] | Reply | None) -> None:
        """Script /embeddings: a `Reply` (status, delay) to fail or stall, None for the normal vectors."""
        self._embed_responder = fn if callable(fn) else (lambda request: fn)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    @property
    def chat_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/embeddings")]

    def start(self) -> OpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="openai-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- behaviour -------------------------------------------------------------------

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _reply_for(self, request: Request) -> Reply:
        reply = self._responder(request)
        return Reply(reply) if isinstance(reply, str) else reply

    def embedding(self, text: str) -> list[float]:
        """A hashed bag of folded, stemmed words: each adds ±(1 + log count) to one of `embedding_dim` slots."""
        counts: dict[str, int] = {}
        for word in _folded_words(text):
            counts[word] = counts.get(word, 0) + 1
        vector = [0.0] * self.embedding_dim
        for word, count in counts.items():
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.embedding_dim
            weight = 1.0 + math.log(count)  # sublinear: a word repeated ten times is not ten times the topic
            vector[slot] += weight if digest[4] & 1 else -weight
        norm = sum(x * x for x in vector) ** 0.5
        if not norm:  # no content word: a fixed unit vector, never zeros (cosine needs a length)
            return [1.0] + [0.0] * (self.embedding_dim - 1)
        return [x / norm for x in vector]


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass

    # --- plumbing --------------------------------------------------------------------

    def _read(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        return Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str | None = None) -> None:
        self._json(
            status,
            {
                "error": {
                    "message": message or f"test server error {status}",
                    "type": _ERROR_TYPES.get(status, "server_error"),
                    "param": None,
                    "code": _ERROR_TYPES.get(status),
                }
            },
        )

    # --- routes ----------------------------------------------------------------------

    def do_GET(self) -> None:
        request = self._read()
        self.owner._record(request)
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": self.owner.model, "object": "model",
                                                         "created": 0, "owned_by": "test"}]})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        request = self._read()
        self.owner._record(request)
        try:
            if self.path.endswith("/chat/completions"):
                self._chat(request)
            elif self.path.endswith("/embeddings"):
                self._embeddings(request)
            else:
                self._error(404, f"no route {self.path}")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def _chat(self, request: Request) -> None:
        reply = self.owner._reply_for(request)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status != 200:
            self._error(reply.status, reply.error)
            return
        created = int(time.time())
        model = request.body.get("model") or self.owner.model
        ident = f"chatcmpl-test{len(self.owner.requests)}"
        if not request.stream:
            self._json(
                200,
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(delta: dict, finish: str | None = None) -> None:
            chunk = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant", "content": ""})
        for piece in _chunks(reply.content, reply.chunk_words):
            event({"content": piece})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _embeddings(self, request: Request) -> None:
        scripted = self.owner._embed_responder(request)
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            if scripted.status != 200:
                self._error(scripted.status, scripted.error)
                return
        inputs = request.body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        as_base64 = request.body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(inputs):
            vector = self.owner.embedding(str(text))
            if as_base64:  # what the openai client asks for by default: float32, little-endian
                vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": vector})
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": request.body.get("model") or self.owner.model,
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            },
        )


_STOPWORDS = frozenset(
    "a about after also an and are as at be been but by did do does for from had has have he her his "
    "how in into is it its many more most much not of on or other over said she such than that the "
    "their then there these they this those to was were what when where which who whom whose why "
    "will with".split()
)


def _folded_words(text: str) -> list[str]:
    """Lower-case words without accents (Trọng = trong, đ = d), stopwords left out, crudely stemmed."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("đ", "d"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", folded) if w not in _STOPWORDS]


def _stem(word: str) -> str:
    """living = live = liv, talks = talk: enough for a question to meet its passage."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 3 else word


def _chunks(text: str, words_per_chunk: int) -> list[str]:
    """`text` cut into pieces of a few words each, whitespace kept, so "".join gives it back."""
    tokens = re.findall(r"\S+\s*|\s+", text)
    n = max(1, words_per_chunk)
    return ["".join(tokens[i : i + n]) for i in range(0, len(tokens), n)]
