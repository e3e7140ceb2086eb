"""Reading article files: decoding checks, metadata, boilerplate spans, sentences and passages.

Every offset here is a character offset into the file's text exactly as Python reads it
(`open(path, encoding="utf-8").read()`, universal newlines), so `text[start:end]` is the passage.
Boilerplate is never deleted from the text: it is left out of the indexed blocks, and no passage
crosses it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date as Date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import RagError

if TYPE_CHECKING:  # llama-index is imported where passages are made (ingest), not to answer
    from llama_index.core.schema import TextNode

ARTICLE_SUFFIXES = (".txt", ".md")
OUTLETS = {
    "VNS": "VNS",
    "VIET NAM NEWS": "VNS",
    "VNA": "VNA",
    "VIETNAM NEWS AGENCY": "VNA",
    "TTXVN": "VNA",
    "VOV": "VOV",
    "VOV.VN": "VOV",
    "VLLF": "VLLF",
    "VNEXPRESS": "VnExpress",
    "TUOI TRE": "Tuoi Tre",
}
_OUTLET_ALT = r"VNS|VNA|VOV(?:\.VN)?|VLLF|TTXVN"
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_MONTH_NUM = {m: i + 1 for i, m in enumerate(_MONTHS.split("|"))}


class ArticleError(RagError):
    """A file that cannot be ingested; the message names the file and what to do."""


@dataclass(frozen=True)
class Article:
    source: str
    path: Path
    text: str
    sha256: str
    title: str | None
    date: str | None
    outlet: str | None
    blocks: tuple[tuple[int, int], ...]

    @property
    def metadata(self) -> dict:
        meta = {"source": self.source, "path": str(self.path), "file_hash": self.sha256}
        for key in ("title", "date", "outlet"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        if self.date:
            meta["date_int"] = int(self.date.replace("-", ""))
        return meta


@dataclass
class FolderScan:
    """What a walk of an articles folder found: the files to read, and what it left out and why."""

    files: list[Path]
    skipped: list[tuple[str, str]]  # (name relative to the folder, one-line reason)
    unlisted: list[str]  # relative names of sub-folders that could not be listed (their files are unknown)
    escaped: list[str]  # relative names of links that lead outside the folder


def scan_articles(folder: Path) -> FolderScan:
    """Every `.txt`/`.md` regular file below `folder`, in name order, and what was left out.

    Hidden files and folders are left out silently. Only files whose real location (links
    resolved) is inside the folder are read: a link to a file or folder outside it is skipped with
    a reason, and so is a link that leads nowhere, a special file named like an article, and a
    sub-folder that cannot be listed. Links to folders are not followed (no loops, no file twice).
    """
    if not folder.exists():
        raise ArticleError(f"{folder} does not exist; create it, set RAG_DATA_DIR, or pass a folder")
    if not folder.is_dir():
        raise ArticleError(f"{folder} is not a folder")
    root = folder.resolve()
    scan = FolderScan([], [], [], [])
    try:
        _walk(folder, "", root, scan)
    except _Unlistable as exc:
        raise ArticleError(f"{folder}: the folder cannot be read ({exc.reason}); check its permissions") from None
    scan.files.sort()
    return scan


def find_articles(folder: Path) -> list[Path]:
    """Every `.txt`/`.md` regular file inside `folder` (see `scan_articles`), in name order."""
    return scan_articles(folder).files


class _Unlistable(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _is_article_name(name: str) -> bool:
    return Path(name).suffix.lower() in ARTICLE_SUFFIXES


def _walk(directory: Path, rel: str, root: Path, scan: FolderScan) -> None:
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if not rel:
            raise _Unlistable(exc.strerror or str(exc)) from None
        scan.unlisted.append(rel)
        scan.skipped.append(
            (rel, f"{directory}: the folder cannot be read ({exc.strerror}); its files were left out; "
                  "check its permissions")
        )
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        name = f"{rel}/{entry.name}" if rel else entry.name
        try:
            if entry.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    if target.is_dir() or _is_article_name(entry.name) or _is_article_name(target.name):
                        scan.escaped.append(name)
                        scan.skipped.append(
                            (name, f"{path}: a link to {target}, outside {root}; only files inside the "
                                   "folder are read (move or copy the file into it)")
                        )
                    continue
                if not _is_article_name(entry.name) or target.is_dir():
                    continue  # links to folders inside are not followed: their files are read where they are
                if not target.exists():
                    scan.skipped.append((name, f"{path}: a link to a missing file ({target}); remove it or fix it"))
                elif not target.is_file():
                    scan.skipped.append((name, f"{path}: not a regular file; only UTF-8 .txt/.md files are read"))
                else:
                    scan.files.append(path)
            elif entry.is_dir(follow_symlinks=False):
                _walk(path, name, root, scan)
            elif _is_article_name(entry.name):
                if entry.is_file(follow_symlinks=False):
                    scan.files.append(path)
                else:
                    scan.skipped.append((name, f"{path}: not a regular file; only UTF-8 .txt/.md files are read"))
        except OSError as exc:
            scan.skipped.append((name, f"{path}: cannot be read ({exc.strerror}); check its permissions"))


def read_text(path: Path, max_bytes: int | None = None) -> tuple[str, str]:
    """Return (text, sha256) of an article file, or raise ArticleError with a one-line reason."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArticleError(f"{path}: cannot be read ({exc.strerror}); check that it exists") from None
    if max_bytes is not None and size > max_bytes:
        raise ArticleError(
            f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit; "
            "split it or raise RAG_MAX_FILE_MB"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:  # permission denied, an I/O error, a folder named like a file ...
        raise ArticleError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from None
    if not raw.strip():
        raise ArticleError(f"{path}: the file is empty; add text or remove it")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ArticleError(f"{path}: the file is UTF-16; re-save it as UTF-8")
    if b"\x00" in raw[:65536]:
        raise ArticleError(f"{path}: looks like a binary file, not text; only UTF-8 .txt/.md are read")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(
            f"{path}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "re-save it as UTF-8"
        ) from None
    controls = sum(1 for ch in decoded[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > 0.01 * min(len(decoded), 65536):
        raise ArticleError(f"{path}: looks like a binary file, not text; only UTF-8 .txt/.md are read")
    # Universal newlines, as open() in text mode reads it: offsets must match what readers see.
    text = decoded.replace("\r\n", "\n").replace("\r", "\n")
    return text, hashlib.sha256(raw).hexdigest()


def read_article(path: Path, source: str, max_bytes: int | None = None) -> Article:
    """Read and analyse one article; raises ArticleError naming the file when it can't be used."""
    text, digest = read_text(path, max_bytes)
    spans, meta = _boilerplate(text, path.suffix.lower() == ".md")
    blocks = _blocks(text, spans)
    if not blocks:
        raise ArticleError(f"{path}: no article text left after removing boilerplate")
    return Article(
        source=source,
        path=path.resolve(),
        text=text,
        sha256=digest,
        title=meta.get("title"),
        date=meta.get("date"),
        outlet=meta.get("outlet"),
        blocks=tuple(blocks),
    )


CAPTION_CHARS = 400  # a photo caption line is at most this long


def _boilerplate(text: str, markdown: bool) -> tuple[list[tuple[int, int]], dict]:
    """Spans of `text` that are not article prose, and the metadata some of them carry."""
    spans: list[tuple[int, int]] = []
    meta: dict[str, str] = {}
    # A UTF-8 byte-order mark is character 0 of what open() reads; it is not text.
    bom = 1 if text.startswith("\ufeff") else 0
    if bom:
        spans.append((0, 1))

    def outlet(name: str) -> None:
        meta.setdefault("outlet", OUTLETS.get(name.upper().strip(" .()"), name.strip(" .()")))

    # A leading "date 2023-04-15" marker (press-release feeds).
    m = re.compile(r"\s*date\s+(\d{4})-(\d{2})-(\d{2})\b\s*").match(text, bom)
    if m and _valid_date(*map(int, m.groups())):
        meta["date"] = "-".join(m.groups())
        spans.append(m.span())
    # The press-release wire's counter line.
    for m in re.finditer(
        r"There were [\d,]+ press releases posted in the last 24 hours and [\d,]+ in the last "
        r"365 days\.[ \t]*\n?",
        text,
    ):
        spans.append(m.span())
    # Datelines: "VIETNAM, April 15 - HÀ NỘI — " / "WASHINGTON — " at the start of a line.
    for m in re.finditer(
        rf"(?m)(?:^|(?<=\d\d ))[ \t]*(?:[A-Z][A-Z .]+, (?:{_MONTHS}) \d{{1,2}}(?:, (\d{{4}}))? - )?"
        r"([^\W\d_][^\W\d_ .,]*(?: [^\W\d_][^\W\d_ .,]*){0,3}) — ",
        text,
    ):
        if m.group(2).isupper():
            spans.append(m.span())
    for m in re.finditer(rf"(?m)(?:^|(?<=\d\d ))[ \t]*[A-Z][A-Z .]+, (?:{_MONTHS}) \d{{1,2}} - ", text):
        spans.append(m.span())
    # Outlet prefix: "VOV.VN - US Secretary ...".
    for m in re.finditer(rf"(?m)^[ \t]*({_OUTLET_ALT})[ \t]*[-–—][ \t]+", text):
        outlet(m.group(1))
        spans.append(m.span())
    # Outlet signatures at the end of a paragraph: "— VNS", "- (VLLF)", "Source: VNA".
    for m in re.finditer(rf"(?m)[ \t]*[-–—][ \t]*\(?({_OUTLET_ALT})\)?[ \t]*$", text):
        outlet(m.group(1))
        spans.append(m.span())
    for m in re.finditer(rf"(?m)^[ \t]*(?:Source|Nguồn)[ \t]*:[ \t]*({_OUTLET_ALT}|[^\n]{{1,40}})[ \t]*$", text):
        outlet(m.group(1))
        spans.append(m.span())
    # "Follow us" trailers, in English or Vietnamese.
    for m in re.finditer(
        r"(?mi)^[ \t]*(?:Mời (?:quý )?(?:độc giả|bạn đọc) theo dõi[^\n]{0,200}|Follow (?:us|[A-Z.]+) on[^\n]{0,200})$",
        text,
    ):
        if "VOV" in m.group(0):
            outlet("VOV")
        spans.append(m.span())
    # Photo credits and captions: the whole line, when it is a caption's length (a file written on
    # one line is not a caption because it credits a photo somewhere).
    for m in re.finditer(
        r"(?m)^[^\n]*(?:__Photo:|\bPhoto:|\(Photo[:\s]|Photo courtesy|Ảnh:)[^\n]*$", text
    ):
        if m.end() - m.start() <= CAPTION_CHARS:
            spans.append(m.span())
    # A title: a markdown heading, or a short first line without final punctuation before a blank line.
    # It stays article text (its names and words are searchable, "Đà Nẵng" may be only there); the
    # reader never quotes a heading as an answer. Only a markdown heading's "#" marker is left out.
    m = re.compile(r"\s*#\s+([^\n]+)\n" if markdown else r"\s*([^\n]{3,200})\n[ \t]*\n").match(text, bom)
    if m and not re.search(r"[.!?:]$", m.group(1).strip()) and len(m.group(1).split()) <= 25:
        meta["title"] = m.group(1).strip()
        if markdown:
            spans.append((m.start(), m.start(1)))
    if "date" not in meta:
        m = re.search(rf"\b({_MONTHS}) (\d{{1,2}}), (\d{{4}})\b", text[:400])
        if m and _valid_date(int(m.group(3)), _MONTH_NUM[m.group(1)], int(m.group(2))):
            meta["date"] = f"{m.group(3)}-{_MONTH_NUM[m.group(1)]:02d}-{int(m.group(2)):02d}"
    return spans, meta


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        Date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def _blocks(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The maximal runs of article text between boilerplate spans, trimmed of whitespace."""
    cut = sorted(spans)
    blocks, pos = [], 0
    for s, e in cut + [(len(text), len(text))]:
        if s > pos:
            blocks.append((pos, s))
        pos = max(pos, e)
    out = []
    for s, e in blocks:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk) - len(chunk.rstrip())
        if e - trail > s + lead and re.search(r"\w", chunk):
            out.append((s + lead, e - trail))
    return out


def sentence_spans(chunk: str, offset: int = 0) -> tuple[tuple[int, int], ...]:
    """Sentences of `chunk` (which starts at `offset` in its file) as absolute, trimmed spans.

    Lines are split first (a headline or paragraph never runs into the next), then punkt,
    the sentence tokenizer llama-index ships, splits each line. The split of a text already
    seen (or kept beside the store, see `remember_sentence_spans`) is reused: loading punkt
    (nltk, scipy) takes about a second, which a question should not wait for.
    """
    return _sentence_spans(chunk, offset)


# Stored passages' splits, kept beside the store (rag.lexical) and loaded with it:
# text -> its sentences' spans relative to the text, flat (s0, e0, s1, e1, ...).
_KNOWN_SPANS: dict[str, object] = {}


def remember_sentence_spans(text: str, relative) -> None:
    """Take `relative` (flat offsets, as `relative_spans(text)` gave them) as the split of `text`.

    The caller checks them (ordered, inside the text): `rag.lexical` does, for the kept file.
    """
    _KNOWN_SPANS[text] = relative


def relative_spans(text: str) -> tuple[int, ...]:
    """The sentences of `text` as flat offsets relative to it: (s0, e0, s1, e1, ...)."""
    return tuple(x for span in _sentence_spans(text, 0) for x in span)


@lru_cache(maxsize=8192)
def _sentence_spans(chunk: str, offset: int) -> tuple[tuple[int, int], ...]:
    known = _KNOWN_SPANS.get(chunk)
    if known is not None:
        flat = [int(x) + offset for x in known]
        return tuple(zip(flat[::2], flat[1::2], strict=True))
    return tuple((s + offset, e + offset) for s, e in _punkt_spans(chunk))


def _punkt_spans(chunk: str) -> tuple[tuple[int, int], ...]:
    from llama_index.core.utils import globals_helper

    tokenizer = globals_helper.punkt_tokenizer
    out = []
    for line in re.finditer(r"[^\n]+", chunk):
        line_text = line.group(0)
        for s, e in tokenizer.span_tokenize(line_text):
            piece = line_text[s:e]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            if e - trail > s + lead:
                out.append((line.start() + s + lead, line.start() + e - trail))
    return tuple(out)


def load_splitters() -> None:
    """Import llama-index's splitter and load punkt now (a second or two), as the first file ingested
    would: for benchmarks that time ingest apart from start-up."""
    from llama_index.core.node_parser import SentenceSplitter  # noqa: F401

    _punkt_spans("Warm up. Now.")


def is_heading(sentence: str) -> bool:
    """A headline or section heading: short, and no final punctuation."""
    return not re.search(r"[.!?\"”')\]]$", sentence.strip()) and len(sentence.split()) <= 15


def split_passages(article: Article, chunk_tokens: int = 160) -> list[TextNode]:
    """Split an article into passages with llama-index's sentence-aware `SentenceSplitter`.

    Each block between boilerplate spans is split on its own, so a passage never includes
    boilerplate; the node offsets are moved back into the original file's coordinates.
    """
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import TextNode

    splitter = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=0, paragraph_separator="\n")
    nodes: list[TextNode] = []
    for b_start, b_end in article.blocks:
        block = article.text[b_start:b_end]
        pieces = splitter.get_nodes_from_documents([Document(text=block)])
        cursor = 0
        for piece in pieces:
            content = piece.get_content()
            rel = piece.start_char_idx
            if rel is None or block[rel : rel + len(content)] != content:
                rel = block.find(content, cursor)
            if rel < 0:  # the splitter changed the text: fall back to its sentences' own spans
                raise ArticleError(f"{article.path}: could not locate a passage in the original text")
            cursor = rel + len(content)
            start, end = _trim(article.text, b_start + rel, b_start + rel + len(content))
            if end <= start:
                continue
            passage_text = article.text[start:end]
            digest = hashlib.sha1(passage_text.encode()).hexdigest()
            meta = dict(article.metadata, start=start, end=end, content_hash=digest)
            nodes.append(
                TextNode(
                    id_=f"{article.source}:{start}-{end}:{digest[:10]}",
                    text=passage_text,
                    start_char_idx=start,
                    end_char_idx=end,
                    metadata=meta,
                )
            )
    return nodes


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
