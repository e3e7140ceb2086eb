"""The Gradio web UI: a chat over the articles, every answer followed by its cited sources.

It only builds the page and calls `rag.Assistant`; launch with `make run`, `rag serve` or
`python app.py` (RAG_HOST / RAG_PORT, default 127.0.0.1:7860).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402

from rag import Answer, Assistant, Filters, RagError  # noqa: E402
from rag.generate import reply_sentences  # noqa: E402 - the sentence split `Answer.unsupported` indexes

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
    """The answer's sentences listed in `Answer.unsupported` (their markers were removed)."""
    if not answer.unsupported:
        return []
    sentences = [text for text, _ in reply_sentences(answer.text)]
    return [sentences[i] for i in answer.unsupported if 0 <= i < len(sentences)]


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


def answer_markdown(answer: Answer) -> str:
    """The chat bubble: a refusal is marked so it never looks like an answer."""
    if answer.refused:
        return f"{REFUSAL_MARK}*{answer.text}*"
    return answer.text


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
    return [{"role": t["role"], "content": _text(t.get("content"))} for t in history or []]


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
                chat = gr.Chatbot(label="Conversation", height=430, elem_id="chat")
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
                    article_text = gr.Textbox(label="Full text", lines=10, interactive=False)
                upload = gr.File(label="Add articles (.txt, .md)", file_count="multiple", file_types=[".txt", ".md"])
                upload_result = gr.Markdown()

        def respond(question, history, answers, outlet_list, d_from, d_to, k):
            history, answers = _plain(history), list(answers or [])
            if not question or not question.strip():
                gr.Warning("Type a question first.")
                yield history, answers, question, gr.skip()
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
                yield history, answers, "", gr.skip()
                answer = None
                for item in bot.stream(question, history=prior, k=int(k), filters=filters):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    # Show the text sentence by sentence as it arrives.
                    shown = ""
                    for piece in re.split(r"(?<=\])\s+", item):
                        shown = f"{shown} {piece}".strip()
                        yield history + [{"role": "assistant", "content": shown}], answers, "", gr.skip()
                        time.sleep(0.03)
            except RagError as exc:
                gr.Warning(str(exc))
                yield history[:-1] if history and history[-1]["role"] == "user" else history, answers, question, gr.skip()
                return
            except Exception as exc:  # never a traceback in the page
                raise gr.Error(f"Something went wrong answering that: {type(exc).__name__}") from exc
            if answer.notice:
                gr.Info(answer.notice)
            history.append({"role": "assistant", "content": answer_markdown(answer)})
            answers.append(answer.to_dict())
            yield history, answers, "", sources_html(answer)

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
            if row is None or not row["path"] or not Path(row["path"]).exists():
                return ""
            return Path(row["path"]).read_text(encoding="utf-8")

        pick.change(open_article, pick, article_text, api_name="article")

        def add_articles(files, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
            if not files:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            data_dir = bot.settings.data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
            paths = []
            for f in files:
                src = Path(f if isinstance(f, str) else f.name)
                dest = data_dir / src.name
                shutil.copyfile(src, dest)
                paths.append(dest)
            progress(0, desc="Ingesting")
            report = bot.ingest(paths, progress=lambda d, t, s: progress(d / max(t, 1), desc=f"Ingesting {s}"))
            line = (
                f"added {len(report.added)} · updated {len(report.updated)} · "
                f"unchanged {len(report.unchanged)} · skipped {len(report.skipped)}"
            )
            if report.skipped:
                line += "\n\n" + "\n".join(f"- skipped: {reason}" for _, reason in report.skipped)
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
    bot = Assistant()
    bot.warm_up()
    host = os.environ.get("RAG_HOST", "127.0.0.1")
    port = int(os.environ.get("RAG_PORT", "7860"))
    build(bot).queue(default_concurrency_limit=4, max_size=64).launch(
        server_name=host, server_port=port, css=CSS, show_error=False
    )


if __name__ == "__main__":
    main()
