"""The Gradio web UI: a chat over the articles, every answer followed by its cited sources.

It only builds the page and calls `rag.Assistant`; launch with `make run`, `rag serve` or
`python app.py` (RAG_HOST / RAG_PORT, default 127.0.0.1:7860).
"""

from __future__ import annotations

import html
import os
import re
import stat
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rag import Answer, Assistant, Filters, RagError  # noqa: E402
from rag.documents import ARTICLE_SUFFIXES, ArticleError, read_article  # noqa: E402

EXAMPLES = [
    "Who received Antony Blinken in Hà Nội?",
    "When did Trong and Biden talk by phone?",
    "How many Vietnamese live in the US?",
    "What did Pham Minh Chinh ask the US about trade duties?",
    "Who did Lê Hoài Trung meet in New York?",
]
REFUSAL_MARK = "🚫 "
CSS = """
.citation { border-left: 3px solid #2563eb; padding: 4px 10px; margin: 8px 0; }
.citation mark { background: #fde68a; padding: 0 2px; }
.refusal { border-left: 3px solid #dc2626; background: #fef2f2; padding: 8px 10px; }
.also { color: #555; font-style: italic; }
.notice { border-left: 3px solid #d97706; background: #fffbeb; padding: 6px 10px; margin: 8px 0; }
.unsupported { border-left: 3px solid #dc2626; background: #fef2f2; padding: 6px 10px; margin: 8px 0; }
"""
UNSUPPORTED_MARK = "⚠ not supported by the articles: "


def unsupported_sentences(answer: Answer) -> list[str]:
    """The model's sentences no passage supports (removed from the answer, or left in it and marked)."""
    return list(answer.unsupported_sentences)


def notes_html(answer: Answer) -> str:
    """The one-line notice (e.g. the language model failed) and the unsupported sentences, if any."""
    parts = []
    if answer.notice:
        parts.append(f'<div class="notice">ℹ {html.escape(answer.notice)}</div>')
    for sentence in unsupported_sentences(answer):
        parts.append(f'<div class="unsupported">{UNSUPPORTED_MARK}“{html.escape(sentence)}”</div>')
    return "\n".join(parts)


def sources_html(answer: Answer) -> str:
    """Notes first, then each citation: file, title, date, outlet, its passage with the quote highlighted."""
    notes = notes_html(answer)
    if answer.refused:
        refusal = '<div class="refusal"><strong>Not in the articles.</strong> Nothing is cited.</div>'
        return f"{notes}\n{refusal}" if notes else refusal
    parts = [notes] if notes else []
    for i, c in enumerate(answer.citations, 1):
        meta = " · ".join(html.escape(x) for x in (c.title, c.date, c.outlet) if x)
        passage = c.passage.text if c.passage else c.quote
        offset = c.start - (c.passage.start if c.passage else c.start)
        before, after = passage[:offset], passage[offset + len(c.quote) :]
        also = ""
        if c.also_in:
            names = ", ".join(
                html.escape(loc.source + (f" ({loc.outlet})" if loc.outlet else "")) for loc in c.also_in
            )
            also = f'<div class="also">also in {names}</div>'
        parts.append(
            f'<div class="citation"><strong>[{i}] {html.escape(c.source)}</strong> '
            f"<small>chars {c.start}–{c.end}{' · ' + meta if meta else ''}</small><br>"
            f"{html.escape(before)}<mark>{html.escape(c.quote)}</mark>{html.escape(after)}{also}</div>"
        )
    return "\n".join(parts)


# The page may load scripts, styles, images, fonts and data only from itself (and images or
# fonts inlined as data:/blob:): an article or a model reply can never make a reader's browser
# fetch a remote URL. Gradio's page needs its inline scripts and styles ('unsafe-inline'), and
# Gradio 6's gr.HTML compiles its template with `new Function` ('unsafe-eval'): still no other host.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


class SecurityHeaders:
    """ASGI middleware: every HTTP response carries the Content-Security-Policy (and nosniff)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-security-policy", b"x-content-type-options")
                ]
                headers += [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def chat_text(text: str) -> str:
    """A chat bubble's content: plain text, HTML-escaped (the Chatbot renders neither Markdown nor HTML)."""
    return html.escape(text, quote=False)


def answer_markdown(answer: Answer) -> str:
    """The chat bubble, as escaped text: a refusal is marked so it never looks like an answer."""
    if answer.refused:
        return chat_text(f"{REFUSAL_MARK}{answer.text}")
    return chat_text(answer.text)


def export_markdown(history: list[dict], answers: list[dict]) -> str:
    """The conversation as Markdown, each answer followed by its citations."""
    lines = ["# Conversation", ""]
    replies = iter(answers)
    for turn in history:
        if turn["role"] == "user":
            lines += [f"**Q:** {turn['content']}", ""]
            continue
        lines += [f"**A:** {turn['content']}", ""]
        answer = next(replies, None)
        for i, c in enumerate((answer or {}).get("citations", []), 1):
            lines.append(f"{i}. `{c['source']}` [{c['start']}:{c['end']}] — “{c['quote']}”")
        lines.append("")
    return "\n".join(lines)


def _text(content) -> str:
    """A chat message's text: Gradio 6 hands messages back as lists of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    return ""


def _plain(history) -> list[dict]:
    """The conversation as the texts asked and answered (the chat holds them HTML-escaped)."""
    return [{"role": t["role"], "content": html.unescape(_text(t.get("content")))} for t in history or []]


def _shown(history: list[dict]) -> list[dict]:
    """The conversation as the Chatbot shows it: every message escaped text."""
    return [{"role": t["role"], "content": chat_text(t["content"])} for t in history]


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


def save_uploads(files: list[tuple[str, Path]], data_dir: Path, max_bytes: int) -> tuple[list[Path], list[str]]:
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
                    messages.append(f"{md_text(candidate)}: already there with the same text; nothing written")
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
    if not path:
        return ""
    root = data_dir.resolve()
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


def _status(bot: Assistant) -> str:
    s = bot.stats()
    return (
        f"**{s['articles']} articles**, {s['passages']} passages  \n"
        f"store: `{s['store']}`  \nanswers: {s['answerer']}  \nembedder: {s['embedder']}"
    )


def _articles_table(rows: list[dict]) -> list[list]:
    return [[a["title"] or a["source"], a["date"] or "", a["outlet"] or "", a["source"]] for a in rows]


def _outlets(rows: list[dict]) -> list[str]:
    return sorted({a["outlet"] for a in rows if a["outlet"]})


def build(bot: Assistant) -> gr.Blocks:
    rows = bot.articles()
    with gr.Blocks(title="News Q&A with citations") as page:
        answers_state = gr.State([])
        gr.Markdown("## Ask the articles — every sentence cited, verbatim")
        with gr.Row():
            with gr.Column(scale=3):
                # Messages are escaped text: no Markdown, HTML, images or links from an article or a model.
                chat = gr.Chatbot(
                    label="Conversation",
                    height=430,
                    elem_id="chat",
                    render_markdown=False,
                    sanitize_html=True,
                    allow_tags=False,
                    latex_delimiters=[],
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the articles…",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                        max_length=2000,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1)
                gr.Examples(EXAMPLES, inputs=box, label="Try")
                sources = gr.HTML(elem_id="sources")
            with gr.Column(scale=2):
                status = gr.Markdown(_status(bot), elem_id="status")
                with gr.Accordion("Filters", open=False):
                    outlets = gr.CheckboxGroup(_outlets(rows), label="Outlets (none = all)")
                    date_from = gr.Textbox(label="From date (YYYY-MM-DD)")
                    date_to = gr.Textbox(label="To date (YYYY-MM-DD)")
                    top_k = gr.Slider(1, 20, value=bot.settings.top_k, step=1, label="Passages (top-k)")
                with gr.Row():
                    clear = gr.Button("Clear conversation")
                    export = gr.Button("Export Markdown")
                export_file = gr.File(label="Conversation export", visible=False)
                with gr.Accordion("Articles", open=False):
                    table = gr.Dataframe(
                        _articles_table(rows), headers=["title", "date", "outlet", "file"], interactive=False
                    )
                    pick = gr.Dropdown([a["source"] for a in rows], label="Open an article")
                    article_box = gr.Textbox(label="Full text", lines=10, interactive=False)
                upload = gr.File(label="Add articles (.txt, .md)", file_count="multiple", file_types=[".txt", ".md"])
                upload_result = gr.Markdown()

        def respond(question, history, answers, outlet_list, d_from, d_to, k):
            history, answers = _plain(history), list(answers or [])
            if not question or not question.strip():
                gr.Warning("Type a question first.")
                yield _shown(history), answers, question, gr.skip()
                return
            try:
                filters = Filters(
                    outlets=tuple(outlet_list or ()), date_from=(d_from or "").strip() or None,
                    date_to=(d_to or "").strip() or None,
                )
                prior = [dict(t) for t in history]
                if prior and prior[-1]["role"] == "assistant" and prior[-1]["content"].startswith(REFUSAL_MARK):
                    prior = prior[:-2]  # a refused turn gives a follow-up nothing to refer to
                history.append({"role": "user", "content": question})
                yield _shown(history), answers, "", gr.skip()
                answer = None
                for item in bot.stream(question, history=prior, k=int(k), filters=filters):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    # Show the text sentence by sentence as it arrives.
                    shown = ""
                    for piece in re.split(r"(?<=\])\s+", item):
                        shown = f"{shown} {piece}".strip()
                        yield _shown(history + [{"role": "assistant", "content": shown}]), answers, "", gr.skip()
                        time.sleep(0.03)
            except RagError as exc:
                gr.Warning(str(exc))
                kept = history[:-1] if history and history[-1]["role"] == "user" else history
                yield _shown(kept), answers, question, gr.skip()
                return
            except Exception as exc:  # never a traceback in the page
                raise gr.Error(f"Something went wrong answering that: {type(exc).__name__}") from exc
            if answer.notice:
                gr.Info(answer.notice)
            shown = _shown(history) + [{"role": "assistant", "content": answer_markdown(answer)}]
            answers.append(answer.to_dict())
            yield shown, answers, "", sources_html(answer)

        inputs = [box, chat, answers_state, outlets, date_from, date_to, top_k]
        outputs = [chat, answers_state, box, sources]
        box.submit(respond, inputs, outputs, api_name="ask")
        send.click(respond, inputs, outputs, api_name=False)

        clear.click(lambda: ([], [], "", gr.update(visible=False)), None, [chat, answers_state, sources, export_file])

        def do_export(history, answers):
            history = _plain(history)
            if not history:
                gr.Warning("Nothing to export yet.")
                return gr.update(visible=False)
            path = Path(tempfile.mkdtemp()) / "conversation.md"
            path.write_text(export_markdown(history, answers), encoding="utf-8")
            return gr.update(value=str(path), visible=True)

        export.click(do_export, [chat, answers_state], export_file, api_name="export")

        def open_article(source):
            row = next((a for a in bot.articles() if a["source"] == source), None)
            return article_text(bot.settings.data_dir, row["path"] if row else None)

        pick.change(open_article, pick, article_box, api_name="article")

        def add_articles(files, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
            if not files:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            uploads = []
            for f in files:
                src = Path(f if isinstance(f, str) else f.name)
                uploads.append((getattr(f, "orig_name", None) or src.name, src))
            max_bytes = int(bot.settings.max_file_mb * 1e6)
            paths, messages = save_uploads(uploads, bot.settings.data_dir, max_bytes)
            notes = "\n".join(f"- {m}" for m in messages)
            if not paths:
                return f"nothing added\n\n{notes}", gr.skip(), gr.skip(), gr.skip(), gr.skip()
            progress(0, desc="Ingesting")
            report = bot.ingest(paths, progress=lambda d, t, s: progress(d / max(t, 1), desc=f"Ingesting {s}"))
            line = (
                f"added {len(report.added)} · updated {len(report.updated)} · "
                f"unchanged {len(report.unchanged)} · skipped {len(report.skipped)}"
            )
            if report.skipped:
                line += "\n\n" + "\n".join(f"- skipped: {md_text(reason)}" for _, reason in report.skipped)
            if notes:
                line += "\n\n" + notes
            now = bot.articles()
            return (
                line,
                _status(bot),
                _articles_table(now),
                gr.update(choices=[a["source"] for a in now]),
                gr.update(choices=_outlets(now)),
            )

        upload.upload(
            add_articles,
            upload,
            [upload_result, status, table, pick, outlets],
            api_name="upload",
            concurrency_limit=1,
        )
    return page


def main() -> None:
    try:
        bot = Assistant()  # validates RAG_HOST / RAG_PORT with the other settings
    except RagError as exc:
        sys.exit(f"Error: {exc}")
    bot.warm_up()
    host, port = bot.settings.host, bot.settings.port
    build(bot).queue(default_concurrency_limit=4, max_size=64).launch(
        server_name=host,
        server_port=port,
        css=CSS,
        show_error=False,
        app_kwargs={"middleware": [Middleware(SecurityHeaders)]},
    )


if __name__ == "__main__":
    main()
