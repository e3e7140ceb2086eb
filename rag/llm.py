"""A thin wrapper over the `openai` client: one place for timeouts, retries with backoff, and errors.

Every failure leaves as `LLMError`, whose message is one line fit to show a user
("HTTP 429 after 3 tries"); the answerer turns it into the offline fallback's notice.
Timeouts, connection failures, 429 and 5xx are retried with exponential backoff;
other statuses (401, 400 ...) are not, since trying again cannot help.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DUMMY_KEY = "not-needed"  # a local OpenAI-compatible server takes any key


class LLMError(Exception):
    """The language model could not answer; `reason` is one line ("HTTP 500 after 3 tries")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LLMConfig:
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = 30.0  # seconds per attempt
    attempts: int = 3
    backoff: float = 0.2  # seconds before the 2nd attempt; doubled before each further one
    temperature: float = 0.0
    max_tokens: int = 600


class LLMClient:
    """Chat completions (whole or streamed) with our own retry loop; the SDK's retries are off."""

    def __init__(self, config: LLMConfig) -> None:
        import openai

        self.config = config
        self._openai = openai
        self.client = openai.OpenAI(
            api_key=config.api_key or DUMMY_KEY,
            base_url=config.base_url or None,
            timeout=config.timeout,
            max_retries=0,
        )

    @property
    def where(self) -> str:
        """Where the model runs, for messages: the base URL or 'api.openai.com'."""
        return self.config.base_url or "api.openai.com"

    # --- calls -----------------------------------------------------------------------

    def complete(self, messages: Sequence[dict], max_tokens: int | None = None) -> str:
        """The model's whole reply to `messages`."""

        def call() -> str:
            resp = self.client.chat.completions.create(
                model=self.config.model,
                messages=list(messages),
                temperature=self.config.temperature,
                max_tokens=max_tokens or self.config.max_tokens,
            )
            if not resp.choices:
                raise LLMError("the reply had no choices")
            return resp.choices[0].message.content or ""

        return self._with_retries(call)

    def stream(self, messages: Sequence[dict]) -> Iterator[str]:
        """The reply's text deltas as they arrive.

        A failure before the first delta is retried like `complete`; one after it cannot be
        (the caller has shown text already) and raises `LLMError` at once.
        """

        def open_stream():
            stream = self.client.chat.completions.create(
                model=self.config.model,
                messages=list(messages),
                temperature=self.config.temperature,
                max_tokens=self.config.max_tokens,
                stream=True,
            )
            it = iter(stream)
            first = _next_delta(it)  # errors while connecting surface here, inside the retries
            return first, it

        first, it = self._with_retries(open_stream)
        if first is None:
            return
        yield first
        while True:
            try:
                delta = _next_delta(it)
            except self._openai.OpenAIError as exc:
                raise LLMError(f"{self._describe(exc)} while streaming") from None
            except Exception as exc:  # httpx errors mid-stream (connection dropped ...)
                raise LLMError(f"{type(exc).__name__} while streaming") from None
            if delta is None:
                return
            yield delta

    # --- retries ---------------------------------------------------------------------

    def _with_retries(self, call):
        attempts = max(1, self.config.attempts)
        for attempt in range(1, attempts + 1):
            try:
                return call()
            except LLMError:
                raise
            except self._openai.OpenAIError as exc:
                if not self._retryable(exc):
                    raise LLMError(self._describe(exc)) from None
                if attempt == attempts:
                    tries = "try" if attempts == 1 else "tries"
                    raise LLMError(f"{self._describe(exc)} after {attempts} {tries}") from None
            except Exception as exc:  # a malformed reply or a transport error the SDK did not wrap
                raise LLMError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}") from None
            time.sleep(self.config.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _retryable(self, exc: Exception) -> bool:
        o = self._openai
        if isinstance(exc, (o.APITimeoutError, o.APIConnectionError)):
            return True
        if isinstance(exc, o.APIStatusError):
            return exc.status_code == 429 or exc.status_code >= 500
        return False

    def _describe(self, exc: Exception) -> str:
        o = self._openai
        if isinstance(exc, o.APITimeoutError):
            return f"timed out after {self.config.timeout:g}s"
        if isinstance(exc, o.APIConnectionError):
            return "could not connect"
        if isinstance(exc, o.APIStatusError):
            return f"HTTP {exc.status_code}"
        first = str(exc).splitlines()[0][:120] if str(exc) else ""
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _next_delta(it) -> str | None:
    """The next non-empty content delta of a chat completion stream, or None at its end."""
    for chunk in it:
        if not chunk.choices:
            continue
        content = chunk.choices[0].delta.content if chunk.choices[0].delta else None
        if content:
            return content
    return None
