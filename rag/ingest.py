"""Incremental, idempotent ingestion: files -> passages -> embeddings -> the store.

A file is re-processed only when its bytes or the passage settings changed. New passages are
written before old ones are deleted and the file's manifest row is written last, so an
interrupted or failed run never loses what was stored, and the next run finishes the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rag.documents import ArticleError, read_article, scan_articles, sentence_spans, split_passages
from rag.embed import BatchEmbedding
from rag.injection import instruction_spans, to_metadata
from rag.models import IngestReport
from rag.store import Store

PARSER_VERSION = "3"  # bump when boilerplate, splitting or passage metadata change: every file is re-split

Progress = Callable[[int, int, str], None]


@dataclass
class _Targets:
    files: list[tuple[Path, str]]  # (file, source name) pairs to ingest
    roots: list[Path]  # the folders whose deleted files are removed from the store
    kept: list[str]  # source names (or prefixes) under sub-folders that could not be listed: never removed
    escaped: list[str]  # source names (or prefixes) of links out of a folder: removed if stored
    root_of: dict[Path, Path]  # each file found in a folder -> that folder, resolved
    aliases: list[str] = field(default_factory=list)  # second routes to a file ingested under another name


def _under(source: str, names: list[str]) -> bool:
    return any(source == n or source.startswith(n + "/") for n in names)


def _targets(paths: Sequence[Path], report: IngestReport) -> _Targets:
    """What to ingest; a file or sub-folder that cannot be read, or leads outside, is reported skipped."""
    out = _Targets([], [], [], [], {})
    for path in paths:
        if path.is_dir():
            scan = scan_articles(path)
            out.roots.append(path.resolve())
            out.files.extend((p, p.relative_to(path).as_posix()) for p in scan.files)
            out.root_of.update((p, out.roots[-1]) for p in scan.files)
            report.skipped.extend(scan.skipped)
            out.kept.extend(scan.unlisted)
            out.escaped.extend(scan.escaped)
        elif path.is_file():
            out.files.append((path, path.name))
        else:
            report.skipped.append((str(path), f"{path} does not exist; check the path or set RAG_DATA_DIR"))
    _drop_second_routes(out, report)
    return out


def _drop_second_routes(out: _Targets, report: IngestReport) -> None:
    """One file reached by two routes (a link to another file of the folder, a file named twice) is
    ingested once: by its real path if that is one of the routes, else by the first. A link is
    reported skipped, naming the file it leads to, and removed from the store if it was stored."""
    routes = [(path, source, path.resolve()) for path, source in out.files]
    first: dict[Path, tuple[Path, str]] = {}
    for path, source, real in sorted(routes, key=lambda r: r[0].is_symlink()):
        first.setdefault(real, (path, source))
    for path, source, real in routes:
        winner = first[real]
        if source != winner[1]:
            out.aliases.append(source)
            if path.is_symlink():
                report.skipped.append((source, f"{path}: a link to {winner[1]}, which is ingested under that name"))
    out.files = list(dict.fromkeys((path, source) for path, source, real in routes if first[real] == (path, source)))


BATCH_PASSAGES = 512  # passages embedded together: files are grouped until they reach this many


@dataclass
class _Split:
    """A file read and split, waiting for its passages to be embedded and written."""

    source: str
    fingerprint: str
    metadata: dict
    sha256: str
    nodes: list
    replaces: bool


def ingest(
    paths: Sequence[Path],
    store: Store,
    embedder: BatchEmbedding,
    chunk_tokens: int,
    max_bytes: int | None = None,
    progress: Progress | None = None,
    sentences=None,
    pooled: bool = False,
) -> IngestReport:
    """Bring the store in line with `paths` (folders are synced: files deleted there are removed).

    Files stream through in groups of about `BATCH_PASSAGES` passages: one embedding batch per
    group (sorted by length inside the embedder, identical text embedded once), so memory stays
    flat however large the folder, and its files are committed (manifest rows last) once the
    group is written. An interrupted run keeps every committed file; the next run does the rest.

    `sentences` (the reader's `rag.sentence_vectors.SentenceVectors`, over the same embedder) is
    handed the vector of each new passage that is one whole sentence: the same text, the same vector.
    With `pooled` (RAG_PASSAGE_VECTORS=pooled) it gives every passage its vector instead, the mean
    of its sentences' vectors, so the text is encoded once.
    """
    if pooled and sentences is None:
        raise ValueError("pooled passage vectors need the sentence vectors")
    started = time.perf_counter()
    report = IngestReport()
    found = _targets(paths, report)
    targets, roots = found.files, found.roots
    manifest = store.file_records()
    fingerprint_suffix = f"{chunk_tokens}:{PARSER_VERSION}:{embedder.model_name}"
    seen: set[str] = set()
    group: list[_Split] = []
    # Each group is written (Chroma, then its files' manifest rows) on a thread of its own while the
    # next group is read, split and embedded: the writes stay in order and off the embedding path.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-ingest-write")
    writing: list[Future] = []

    def flush(group: list[_Split]) -> None:
        if not group:
            return
        vectors, embedded = _embed(group, store, embedder, sentences, pooled)
        for pending in writing:
            pending.result()  # a failed write stops the run here, before anything later is written
        writing[:] = [writer.submit(_write, group, store, report, vectors, embedded)]

    try:
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
                root = found.root_of.get(path)
                if root is not None and not article.path.is_relative_to(root):  # became a link since the scan
                    raise ArticleError(
                        f"{path}: a link to {article.path}, outside {root}; only files inside the folder are read"
                    )
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
            flagged = _flag_instructions(nodes)
            if flagged:
                report.flagged.append((source, flagged))
            group.append(_Split(source, fingerprint, dict(article.metadata), article.sha256, nodes, bool(old)))
            if sum(len(g.nodes) for g in group) >= BATCH_PASSAGES:
                flush(group)
                group = []
        flush(group)
        for pending in writing:
            pending.result()
    finally:
        writer.shutdown(wait=True)  # an interrupted run still commits the groups it embedded
    for source, meta in manifest.items():
        path = Path(meta.get("path", ""))
        if source in seen or _under(source, found.kept):
            continue  # read now, or in a sub-folder that could not be listed this time
        if _under(source, found.escaped) or source in found.aliases:  # through a link out, or a second route
            store.delete_file(source)
            report.removed.append(source)
            continue
        if path.exists():
            continue
        if any(path.is_relative_to(root) for root in roots):
            store.delete_file(source)
            report.removed.append(source)
    report.passages_total = store.count()
    report.seconds = time.perf_counter() - started
    return report


def _one_sentence(text: str) -> bool:
    """Is the passage a single sentence, exactly (the reader would embed the same text again)?"""
    spans = sentence_spans(text, 0)
    return len(spans) == 1 and spans[0] == (0, len(text))


def _flag_instructions(nodes) -> int:
    """Record in each passage's metadata the sentences that read as instructions to an AI model."""
    flagged = 0
    for node in nodes:
        spans = instruction_spans(node.get_content(), int(node.metadata["start"]))
        node.metadata["instructions"] = to_metadata(spans)
        flagged += len(spans)
    return flagged


def _embed(
    group: list[_Split], store: Store, embedder: BatchEmbedding, sentences=None, pooled=False
) -> tuple[dict[str, list[float]], int]:
    """The vector of every passage text of a group (content hash -> vector), embedding in one batch
    only the texts not stored yet; and how many were embedded."""
    texts = {n.metadata["content_hash"]: n.get_content() for g in group for n in g.nodes}
    known = store.embeddings_by_hash(sorted(texts))  # text already stored (an unchanged passage, a copy)
    missing = [h for h in texts if h not in known]
    if pooled:
        known.update(zip(missing, sentences.pooled([texts[h] for h in missing]).tolist(), strict=True))
    else:
        known.update(zip(missing, embedder.embed([texts[h] for h in missing]), strict=True))
    if sentences is not None and not pooled:
        whole = [h for h in missing if _one_sentence(texts[h])]
        sentences.put([texts[h] for h in whole], [known[h] for h in whole])
    return known, len(missing)


def _write(group: list[_Split], store: Store, report: IngestReport, known: dict, embedded: int) -> None:
    """Write a group of files' passages with their vectors, then commit the files."""
    # All the group's passages in one write, then the stale ones of re-ingested files, then the
    # manifest rows: a file counts as ingested only once everything of it is stored.
    nodes = [n for g in group for n in g.nodes]
    store.add_passages(
        [n.node_id for n in nodes],
        [n.get_content() for n in nodes],
        [n.metadata for n in nodes],
        [known[n.metadata["content_hash"]] for n in nodes],
    )
    # Stale: an edited file's old passages, or those an interrupted run left of a changed file.
    keep = {n.node_id for n in nodes}
    stored = store.passage_ids_of([g.source for g in group])
    store.delete_passages(sorted(i for ids in stored.values() for i in ids if i not in keep))
    rows = {}
    for g in group:
        meta = dict(g.metadata, fingerprint=g.fingerprint, passages=len(g.nodes), sha256=g.sha256)
        meta.pop("file_hash", None)
        rows[g.source] = meta
        (report.updated if g.replaces else report.added).append(g.source)
        report.passages_written += len(g.nodes)
    store.put_files(rows)
    report.passages_embedded += embedded
