"""Incremental, idempotent ingestion: files -> passages -> embeddings -> the store.

A file is re-processed only when its bytes or the passage settings changed. New passages are
written before old ones are deleted and the file's manifest row is written last, so an
interrupted or failed run never loses what was stored, and the next run finishes the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rag.documents import ArticleError, find_articles, read_article, split_passages
from rag.embed import MiniLMEmbedding
from rag.models import IngestReport
from rag.store import Store

PARSER_VERSION = "1"  # bump when boilerplate or splitting rules change: every file is re-split

Progress = Callable[[int, int, str], None]


def _targets(paths: Sequence[Path], report: IngestReport) -> tuple[list[tuple[Path, str]], list[Path]]:
    """(file, source name) pairs to ingest, and the folders whose deleted files are removed."""
    targets: list[tuple[Path, str]] = []
    roots: list[Path] = []
    for path in paths:
        if path.is_dir():
            roots.append(path.resolve())
            targets.extend((p, p.relative_to(path).as_posix()) for p in find_articles(path))
        elif path.is_file():
            targets.append((path, path.name))
        else:
            report.skipped.append((str(path), f"{path} does not exist; check the path or set RAG_DATA_DIR"))
    return targets, roots


def ingest(
    paths: Sequence[Path],
    store: Store,
    embedder: MiniLMEmbedding,
    chunk_tokens: int,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the store in line with `paths` (folders are synced: files deleted there are removed)."""
    started = time.perf_counter()
    report = IngestReport()
    targets, roots = _targets(paths, report)
    manifest = store.file_records()
    fingerprint_suffix = f"{chunk_tokens}:{PARSER_VERSION}:{embedder.model_name}"
    seen: set[str] = set()
    for done, (path, source) in enumerate(targets, 1):
        if progress:
            progress(done, len(targets), source)
        if source in seen:
            report.skipped.append((source, f"{path}: another file named {source} is in this run; rename one"))
            continue
        seen.add(source)
        old = manifest.get(source)
        if old and old.get("path") != str(path.resolve()) and Path(old.get("path", "")).exists():
            report.skipped.append(
                (source, f"{path}: a different file named {source} is stored (from {old['path']}); rename one")
            )
            continue
        try:
            article = read_article(path, source, max_bytes)
        except ArticleError as exc:
            kept = " (its earlier version stays in the store)" if old else ""
            report.skipped.append((source, f"{exc}{kept}"))
            continue
        # The path is part of it: passages carry the path a reader opens to check a citation.
        fingerprint = f"{article.sha256}:{fingerprint_suffix}:{article.path}"
        if old and old.get("fingerprint") == fingerprint:
            report.unchanged.append(source)
            continue
        nodes = split_passages(article, chunk_tokens)
        if not nodes:
            report.skipped.append((source, f"{path}: no passages could be made from it"))
            continue
        hashes = [n.metadata["content_hash"] for n in nodes]
        known = store.embeddings_by_hash(sorted(set(hashes)))
        missing = sorted({h for h in hashes if h not in known})
        if missing:
            texts = {n.metadata["content_hash"]: n.get_content() for n in nodes}
            for h, vec in zip(missing, embedder.embed([texts[h] for h in missing]), strict=True):
                known[h] = vec
        ids = [n.node_id for n in nodes]
        stale = set(store.passage_ids(source)) - set(ids)
        store.add_passages(ids, [n.get_content() for n in nodes], [n.metadata for n in nodes], [known[h] for h in hashes])
        store.delete_passages(sorted(stale))
        file_meta = dict(article.metadata, fingerprint=fingerprint, passages=len(nodes))
        file_meta.pop("file_hash", None)
        file_meta["sha256"] = article.sha256
        store.put_file(source, file_meta)
        (report.updated if old else report.added).append(source)
        report.passages_written += len(nodes)
    for source, meta in manifest.items():
        path = Path(meta.get("path", ""))
        if source in seen or path.exists():
            continue
        if any(path.is_relative_to(root) for root in roots):
            store.delete_file(source)
            report.removed.append(source)
    report.passages_total = store.count()
    report.seconds = time.perf_counter() - started
    return report
