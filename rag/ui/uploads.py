"""Uploads from the page: safe names, checks before any write, files created only inside the data folder.

Also `article_text`, which reads an article for the page only from inside that folder.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from rag.documents import ARTICLE_SUFFIXES, ArticleError, read_article


def md_text(text: str) -> str:
    """Text (e.g. a file name) shown literally inside Markdown: no HTML, links or images."""
    return re.sub(r"([\\`*_\[\]()!|~<>&])", r"\\\1", text)


UPLOAD_NAME_MAX = 200  # bytes of a stored upload's name


class UploadRefused(Exception):
    """An upload that is not written; the message says why, naming the file."""


def upload_name(name: str) -> str:
    """A safe file name for an upload inside the data folder, or UploadRefused saying why.

    Path separators become "_", control and format characters are dropped, runs of dots are one
    dot; hidden names (".x") and names ingest would skip (not .txt/.md) are refused.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r"[/\\]", "_", name).strip()
    shown = md_text(name or "(no name)")
    if name.startswith("."):
        raise UploadRefused(f"{shown}: a hidden name (starts with “.”); rename it")
    name = re.sub(r"\.{2,}", ".", name)
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in ARTICLE_SUFFIXES or not stem.strip(" ._"):
        raise UploadRefused(f"{shown}: only .txt and .md files are read; rename or convert it")
    while len((stem + suffix).encode("utf-8")) > UPLOAD_NAME_MAX:
        stem = stem[:-1]
    return stem + suffix


def _same_file(path: Path, raw: bytes) -> bool:
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(raw):
            return False
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            return f.read() == raw
    except OSError:
        return False


def save_uploads(
    files: list[tuple[str, Path]], data_dir: Path, max_bytes: int
) -> tuple[list[Path], list[str]]:
    """Copy uploaded (name, temporary path) files into the data folder; return (written, messages).

    A file is checked before anything is written: its name (see `upload_name`), its size against
    `max_bytes` and that ingest would read it (UTF-8 text with article text in it). A name taken by
    a different file is never overwritten: the upload is stored as `name-2.txt` (`-3` …); the same
    bytes under the same name are left alone. Files are created with O_CREAT|O_EXCL|O_NOFOLLOW, so
    nothing is written through a link, and only directly inside the resolved data folder.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    root = data_dir.resolve()
    written: list[Path] = []
    messages: list[str] = []
    for name, src in files:
        try:
            clean = upload_name(name)
            shown = md_text(clean)
            src = Path(src)
            size = src.stat().st_size
            if size > max_bytes:
                raise UploadRefused(
                    f"{shown}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)"
                )
            try:
                read_article(src, clean, max_bytes)
            except ArticleError as exc:
                reason = str(exc).replace(str(src), "", 1).lstrip(": ")
                raise UploadRefused(f"{shown}: {md_text(reason)}") from None
            raw = src.read_bytes()
            stem, suffix = os.path.splitext(clean)
            for n in range(1, 1000):
                candidate = clean if n == 1 else f"{stem}-{n}{suffix}"
                dest = root / candidate
                if _same_file(dest, raw):
                    messages.append(
                        f"{md_text(candidate)}: already there with the same text; nothing written"
                    )
                    break
                if os.path.lexists(dest) or dest.resolve().parent != root:
                    continue
                try:
                    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                except FileExistsError:
                    continue
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(raw)
                except OSError:
                    dest.unlink(missing_ok=True)
                    raise
                written.append(dest)
                if candidate != clean:
                    messages.append(
                        f"{md_text(candidate)}: saved under a new name; a different {shown} is already "
                        "there and was kept"
                    )
                break
            else:
                raise UploadRefused(f"{shown}: too many files with this name; rename it")
        except UploadRefused as exc:
            messages.append(f"refused {exc}")
        except OSError as exc:
            messages.append(f"refused {md_text(str(name))}: could not be written ({exc.strerror or exc})")
    return written, messages


def article_text(data_dir: Path, path: str | None) -> str:
    """An article file's text, only when it is a regular file inside the data folder (resolved)."""
    root = data_dir.resolve()
    if not path:  # the store named no file, or one outside the folders chosen (rag.article_roots)
        return f"Not shown: no file of this article is inside the articles folder ({root})."
    target = Path(path).resolve()
    if not target.is_relative_to(root):
        return f"Not shown: the file is outside the articles folder ({root})."
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return "Not shown: not a regular file."
            return f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"Not shown: the file cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__})."


def drop_skipped(written: list[Path], skipped: list[tuple[str, str]]) -> list[Path]:
    """Delete the uploads just written that the ingest skipped (name, reason); return them.

    The folder then holds only what the collection shows: a skipped upload is not picked up,
    unexplained, by a later ingest.
    """
    by_name = {p.name: p for p in written}
    dropped = []
    for name, _ in skipped:
        path = by_name.get(Path(name).name)
        if path is not None and path not in dropped:
            path.unlink(missing_ok=True)
            dropped.append(path)
    return dropped
