"""Where the UI writes conversation exports before Gradio serves them: one folder per app, pruned.

Each export is a new file in a folder the app creates at start (`rag-export-*` in the system's
temporary folder). Files older than `KEEP_SECONDS` are deleted at every export, and the folder
itself when the process exits; Gradio's own copies are deleted by the page's `delete_cache`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
import uuid
from pathlib import Path

KEEP_SECONDS = 600  # an export link stays valid this long
DELETE_CACHE = (KEEP_SECONDS, KEEP_SECONDS)  # gr.Blocks(delete_cache=...): Gradio's copies, same age


class ExportFolder:
    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="rag-export-"))
        atexit.register(self.close)

    def write(self, text: str, now: float | None = None) -> Path:
        """A new file holding `text`; older exports past `KEEP_SECONDS` are removed first."""
        now = time.time() if now is None else now
        for old in self.path.iterdir():
            try:
                if now - old.stat().st_mtime > KEEP_SECONDS:
                    shutil.rmtree(old)
            except FileNotFoundError:  # another session pruned it
                pass
        folder = self.path / uuid.uuid4().hex[:12]
        folder.mkdir()
        path = folder / "conversation.md"
        path.write_text(text, encoding="utf-8")
        return path

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
