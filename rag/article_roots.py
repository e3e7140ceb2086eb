"""Which article file a path taken from the store may name.

The store is not trusted (a store folder may come from someone else): a passage's recorded `path`
is read, for the sentence before a quote or an article's headline, only when it is a `.txt`/`.md`
file whose real location is inside a folder the user chose: the data folder, or a file or folder
this process ingested. Any other recorded path is dropped, and what needed the file does without
it (the article is named by its file name, a quoted "He" is explained from the passage alone).
"""

from __future__ import annotations

from pathlib import Path

from rag.documents import ARTICLE_SUFFIXES


class ArticleRoots:
    """The folders (and single files) whose articles may be read by a recorded path."""

    def __init__(self, *roots: str | Path) -> None:
        self._roots: list[Path] = []
        for root in roots:
            self.add(root)

    def add(self, root: str | Path) -> None:
        """Trust a folder the user chose (or one file), by its real location."""
        try:
            resolved = Path(root).resolve()
        except (OSError, RuntimeError):
            return
        if resolved not in self._roots:
            self._roots.append(resolved)

    def allows(self, path: str | None) -> str | None:
        """`path` when it names an article file inside a trusted folder, else None."""
        if not path or Path(path).suffix.lower() not in ARTICLE_SUFFIXES:
            return None
        try:
            target = Path(path).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        return path if any(target == root or target.is_relative_to(root) for root in self._roots) else None
