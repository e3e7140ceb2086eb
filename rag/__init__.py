"""Question answering over news articles with verbatim, offset-exact citations.

    from rag import Assistant
    bot = Assistant()
    bot.ingest()
    answer = bot.ask("Who received Antony Blinken in Hanoi?")
"""

from importlib import import_module

_EXPORTS = {
    "Assistant": "rag.assistant",
    "Settings": "rag.config",
    "RagError": "rag.errors",
    "Answer": "rag.models",
    "Citation": "rag.models",
    "IngestReport": "rag.models",
    "Location": "rag.models",
    "Passage": "rag.models",
    "Filters": "rag.retrieve",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    # Imported on first use: `import rag.text` stays light, without torch or chromadb.
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
