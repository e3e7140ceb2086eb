"""Conversation exports are written to one folder per app and cleaned (issue 12, footguns)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ROOT

from rag.ui.exports import KEEP_SECONDS, ExportFolder


def test_old_exports_are_removed_and_new_ones_kept():
    folder = ExportFolder()
    try:
        first = folder.write("# one")
        old = time.time() - KEEP_SECONDS - 5
        os.utime(first.parent, (old, old))
        second = folder.write("# two")
        assert second.read_text(encoding="utf-8") == "# two" and second.name == "conversation.md"
        assert not first.exists() and not first.parent.exists()
        third = folder.write("# three")
        assert second.exists() and third.exists() and second != third
        assert all(p.is_relative_to(folder.path) for p in (second, third))
    finally:
        folder.close()
    assert not folder.path.exists()


def test_the_export_folder_is_removed_when_the_process_exits():
    code = "from rag.ui.exports import ExportFolder; f = ExportFolder(); f.write('# x'); print(f.path)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    from pathlib import Path

    path = Path(run.stdout.strip())
    assert path.name.startswith("rag-export-") and not path.exists()
