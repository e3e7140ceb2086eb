"""The Gradio web UI: a conversation over the articles, every answer followed by its own sources.

It only builds the page and calls `rag.Assistant`; the HTML lives in rag/ui/. Launch with
`make run`, `rag serve` or `python app.py` (RAG_HOST / RAG_PORT, default 127.0.0.1:7860).
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rag import Answer, Assistant, Filters, RagError  # noqa: E402
from rag.article_names import outlet_name, readable_date  # noqa: E402
from rag.injection import warning as injection_warning  # noqa: E402
from rag.ui import render  # noqa: E402
from rag.ui.assets import CONVERSATION_JS, CSS, SHOW_ARTICLE_JS, SHOW_LATEST_JS  # noqa: E402
from rag.ui.collection import Collection, about_markdown, welcome_html  # noqa: E402
from rag.ui.exports import DELETE_CACHE, ExportFolder  # noqa: E402
from rag.ui.render import REFUSAL_MARK, UNSUPPORTED_MARK  # noqa: E402, F401 - part of the page's API
from rag.ui.security import CSP, SecurityHeaders  # noqa: E402, F401
from rag.ui.uploads import UploadRefused, article_text, drop_skipped, md_text, save_uploads, upload_name  # noqa: E402, F401

MAX_QUESTION = 2000
EXAMPLE_COUNT = 3


def unsupported_sentences(answer: Answer) -> list[str]:
    """The model's sentences no passage supports (removed from the answer, or left in it and marked)."""
    return list(answer.unsupported_sentences)


def sources_html(answer: Answer) -> str:
    """One answer's notes and source cards, as the page shows them under the answer."""
    return render.sources_html(answer.to_dict(), 1, {}, latest=True)


def chat_text(text: str) -> str:
    """Text as the page shows it: HTML-escaped, so nothing in it is markup."""
    return html.escape(text, quote=False)


def answer_markdown(answer: Answer) -> str:
    """The answer as escaped text: a refusal is marked so it never looks like an answer."""
    return chat_text(f"{REFUSAL_MARK}{answer.text}" if answer.refused else answer.text)


def _plain(history) -> list[dict]:
    """Messages as the texts asked and answered (the page holds them HTML-escaped)."""
    return [{"role": t["role"], "content": html.unescape(str(t.get("content") or ""))} for t in history or []]


def export_markdown(turns: list[dict], names: dict | None = None) -> str:
    """The conversation as Markdown, each answer followed by its citations (title, outlet, date, file)."""
    return render.export_markdown(turns, names or {})


def history_of(turns: list[dict]) -> list[dict]:
    """The conversation as the answerer reads it; refused turns give a follow-up nothing to refer to."""
    out = []
    for t in turns:
        answer = t.get("answer")
        if answer and not answer.get("refused"):
            out += [
                {"role": "user", "content": t["question"]},
                {"role": "assistant", "content": answer["answer"]},
            ]
    return out


def filters_of(outlets, date_from, date_to) -> Filters:
    """The filters as chosen on the page (raises RagError for a date that is not one)."""
    return Filters(
        outlets=tuple(outlets or ()),
        date_from=(date_from or "").strip()[:10] or None,
        date_to=(date_to or "").strip()[:10] or None,
    )


def filters_summary(outlets, date_from, date_to, table: dict[str, str] | None = None) -> str:
    """The active filters in words ('' when none is on)."""
    parts = []
    if outlets:
        parts.append("only " + ", ".join(outlet_name(o, table) or o for o in outlets))
    if (date_from or "").strip():
        parts.append("from " + (readable_date(date_from.strip()[:10]) or date_from))
    if (date_to or "").strip():
        parts.append("until " + (readable_date(date_to.strip()[:10]) or date_to))
    return "**Filters on:** " + "; ".join(parts) if parts else ""


def build(bot: Assistant) -> gr.Blocks:
    initial = Collection.of(bot)  # choices for API callers; a page load refreshes every view
    exports = ExportFolder()
    with gr.Blocks(title="News Q&A with citations", delete_cache=DELETE_CACHE) as page:
        turns_state = gr.State([])
        sources_state = gr.State([])  # the article table's rows, as file names
        gr.Markdown("## Ask the news articles — every answer quoted from them, with its sources")
        with gr.Row():
            with gr.Column(scale=3, min_width=320):
                status = gr.HTML(elem_id="status", js_on_load=None)
                with gr.Row(elem_id="examples"):
                    example_buttons = [
                        gr.Button("", size="sm", visible=False, elem_classes="example")
                        for _ in range(EXAMPLE_COUNT)
                    ]
                with gr.Row(visible=False, elem_id="filter-bar") as filter_bar:
                    filter_text = gr.Markdown(elem_id="filter-text")
                    reset_filters = gr.Button("Reset filters", size="sm", scale=0, min_width=120)
                # Our HTML, everything from an article or a model escaped (rag.ui.render).
                conversation = gr.HTML(
                    render.conversation_html([], {}), elem_id="chat", js_on_load=CONVERSATION_JS
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask about the articles…",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                        max_length=MAX_QUESTION,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                asked = gr.Textbox(visible=False)  # the question being answered; the box is free meanwhile
                with gr.Row():
                    clear = gr.Button("Clear conversation", size="sm", elem_id="clear")
                    export = gr.Button("Export Markdown", size="sm", elem_id="export")
                export_file = gr.File(label="Conversation export", visible=False, elem_id="export-file")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Filters", open=False, elem_id="filters"):
                    outlets = gr.CheckboxGroup(
                        initial.outlet_choices(), label="Outlets (none = all)", elem_id="outlets"
                    )
                    # Stacked: side by side, the calendar buttons do not fit the panel.
                    date_from = gr.DateTime(
                        include_time=False, type="string", label="From", elem_id="date-from"
                    )
                    date_to = gr.DateTime(include_time=False, type="string", label="Until", elem_id="date-to")
                with gr.Accordion("Articles", open=False, elem_id="articles") as articles_box:
                    table = gr.Dataframe(
                        headers=["Article", "Outlet", "Date"],
                        interactive=False,
                        wrap=True,
                        column_widths=["56%", "24%", "20%"],
                        max_height=360,
                        elem_id="article-table",
                    )
                    pick = gr.Dropdown(
                        initial.article_choices(),
                        value=None,
                        label="Open an article",
                        elem_id="pick",
                        allow_custom_value=True,  # checked against the collection when opened
                    )
                    article_view = gr.HTML(
                        '<div class="article empty">Pick an article, or a source’s “Open the article here”.</div>',
                        elem_id="article-view",
                        js_on_load=None,
                    )
                upload = gr.File(
                    label="Add articles (.txt, .md)",
                    file_count="multiple",
                    file_types=[".txt", ".md"],
                    elem_id="upload",
                )
                upload_result = gr.Markdown(elem_id="upload-result")
                with gr.Accordion("About", open=False, elem_id="about"):
                    about = gr.Markdown()

        # ---------------------------------------------------------------- the collection
        def answered(question: str) -> bool:
            """An example is offered only when the articles answer it."""
            try:
                return not bot.ask(question).refused
            except RagError:
                return False

        def collection_outputs():
            c = Collection.of(bot)
            examples = c.examples(answered, EXAMPLE_COUNT)
            buttons = [
                gr.update(value=examples[i], visible=True) if i < len(examples) else gr.update(visible=False)
                for i in range(EXAMPLE_COUNT)
            ]
            return (
                welcome_html(c),
                *buttons,
                c.table(),
                c.sources,
                gr.update(choices=c.article_choices()),
                gr.update(choices=c.outlet_choices()),
                about_markdown(bot),
                gr.update(info=c.date_note()),
            )

        collection_views = [status, *example_buttons, table, sources_state, pick, outlets, about, date_from]
        page.load(collection_outputs, None, collection_views, api_name=False)

        # ---------------------------------------------------------------- asking
        def take(question):
            """Move the question out of the box at once, so what is typed next is never overwritten."""
            if not question or not question.strip():
                gr.Warning("Type a question first.")
                return gr.skip(), ""
            return "", question

        def respond(question, turns, outlet_list, d_from, d_to):
            turns = list(turns or [])
            names = Collection.of(bot).names
            if not question or not question.strip():
                if question is not None and question != "":
                    gr.Warning("Type a question first.")
                yield gr.skip(), gr.skip()
                return
            try:
                filters = filters_of(outlet_list, d_from, d_to)
                prior = history_of(turns)
                current = {"question": question, "answer": None, "partial": ""}
                yield render.conversation_html(turns + [current], names), gr.skip()
                answer = None
                for item in bot.stream(question, history=prior, filters=filters):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    # Show the text sentence by sentence as it arrives.
                    shown = ""
                    for piece in re.split(r"(?<=\])\s+", item):
                        shown = f"{shown} {piece}".strip()
                        current = {**current, "partial": shown}
                        yield render.conversation_html(turns + [current], names), gr.skip()
                        time.sleep(0.03)
            except RagError as exc:
                gr.Warning(str(exc))
                yield render.conversation_html(turns, names), turns
                return
            except Exception as exc:  # never a traceback in the page
                raise gr.Error(f"Something went wrong answering that: {type(exc).__name__}") from exc
            if answer.notice:
                gr.Info(answer.notice)
            turns.append({"question": question, "answer": answer.to_dict()})
            yield render.conversation_html(turns, names), turns

        ask_inputs = [asked, turns_state, outlets, date_from, date_to]
        ask_outputs = [conversation, turns_state]
        # gradio_client calls the answering step as /ask: (question, outlets, from, to) -> the conversation.
        answering = []  # the answering steps, which Clear stops (a late answer must not bring turns back)
        for trigger, name in ((box.submit, "ask"), (send.click, False)):
            step = trigger(take, box, [box, asked], queue=False, api_name=False).then(
                respond, ask_inputs, ask_outputs, api_name=name
            )
            step.then(None, None, None, js=SHOW_LATEST_JS)
            answering.append(step)
        for button in example_buttons:
            step = button.click(lambda q: q, button, asked, queue=False, api_name=False).then(
                respond, ask_inputs, ask_outputs, api_name=False
            )
            step.then(None, None, None, js=SHOW_LATEST_JS)
            answering.append(step)

        def clear_all():
            return (
                [],
                render.conversation_html([], {}),
                gr.update(value=None, visible=False),
                '<div class="article empty">Pick an article, or a source’s “Open the article here”.</div>',
            )

        clear.click(
            clear_all,
            None,
            [turns_state, conversation, export_file, article_view],
            api_name=False,
            cancels=answering,
        )

        def do_export(turns):
            if not turns:
                gr.Warning("Nothing to export yet.")
                return gr.update(visible=False)
            path = exports.write(export_markdown(turns, Collection.of(bot).names))
            return gr.update(value=str(path), visible=True)

        export.click(do_export, turns_state, export_file, api_name="export")

        # ---------------------------------------------------------------- filters
        def show_filters(outlet_list, d_from, d_to):
            text = filters_summary(outlet_list, d_from, d_to, Collection.of(bot).outlet_table)
            return gr.update(visible=bool(text)), text

        for control in (outlets, date_from, date_to):
            control.change(
                show_filters, [outlets, date_from, date_to], [filter_bar, filter_text], api_name=False
            )
        reset_filters.click(lambda: ([], None, None), None, [outlets, date_from, date_to], api_name=False)

        # ---------------------------------------------------------------- articles
        def open_article(source, start=None, end=None):
            c = Collection.of(bot)
            row = next((a for a in c.rows if a["source"] == source), None)
            if row is None:
                return "Not shown: no such article in the collection."
            text = article_text(bot.settings.data_dir, row["path"])
            return render.article_view_html(text, c.names.get(source), start, end)

        pick.input(open_article, pick, article_view, api_name="article")

        def open_row(sources, evt: gr.SelectData):
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if not isinstance(row, int) or not 0 <= row < len(sources):
                return gr.skip(), gr.skip()
            return open_article(sources[row]), gr.update(value=sources[row])

        table.select(open_row, sources_state, [article_view, pick], api_name=False)

        def open_from_card(evt: gr.EventData):
            data = getattr(evt, "_data", None)
            source = data.get("source") if isinstance(data, dict) else None
            if not isinstance(source, str) or not source:
                return gr.skip(), gr.skip(), gr.skip()  # a click elsewhere in the conversation
            start, end = data.get("start"), data.get("end")
            if not (isinstance(start, int) and isinstance(end, int)):
                start = end = None  # the article opens without a mark
            return open_article(source, start, end), gr.update(open=True), gr.update(value=source)

        conversation.click(open_from_card, None, [article_view, articles_box, pick], api_name=False).then(
            None, None, None, js=SHOW_ARTICLE_JS
        )

        # ---------------------------------------------------------------- uploads
        def add_articles(files, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
            if not files:
                return (gr.skip(),) * 2 + (gr.skip(),) * len(collection_views)
            uploads = []
            for f in files:
                src = Path(f if isinstance(f, str) else f.name)
                uploads.append((getattr(f, "orig_name", None) or src.name, src))
            max_bytes = int(bot.settings.max_file_mb * 1e6)
            paths, messages = save_uploads(uploads, bot.settings.data_dir, max_bytes)
            notes = "\n".join(f"- {m}" for m in messages)
            if not paths:
                return (f"nothing added\n\n{notes}", None) + (gr.skip(),) * len(collection_views)
            progress(0, desc="Ingesting")
            report = bot.ingest(
                paths, progress=lambda d, t, s: progress(d / max(t, 1), desc=f"Ingesting {s}")
            )
            drop_skipped(paths, report.skipped)
            line = (
                f"added {len(report.added)} · updated {len(report.updated)} · "
                f"unchanged {len(report.unchanged)} · skipped {len(report.skipped)}"
            )
            if report.skipped:
                line += "\n\n" + "\n".join(f"- skipped (not kept): {md_text(r)}" for _, r in report.skipped)
            for name, n in report.flagged:
                line += f"\n\n- ⚠ {injection_warning(md_text(name), n)}"
            if notes:
                line += "\n\n" + notes
            return (line, None) + collection_outputs()

        upload.upload(
            add_articles,
            upload,
            [upload_result, upload, *collection_views],
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
