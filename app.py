"""The Gradio web UI: a chat over the articles, every answer followed by its cited sources.

It only builds the page and calls `rag.Assistant`; launch with `make run` or `python app.py`.
"""

from __future__ import annotations

import html
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import gradio as gr  # noqa: E402

from rag import Answer, Assistant, RagError  # noqa: E402


def sources_markdown(answer: Answer) -> str:
    """Each citation: file, title, date, outlet, and its passage with the quote highlighted."""
    if answer.refused:
        return "**No answer in the articles.** Nothing is cited."
    parts = []
    for i, c in enumerate(answer.citations, 1):
        meta = " · ".join(html.escape(x) for x in (c.title, c.date, c.outlet) if x)
        passage = c.passage.text if c.passage else c.quote
        offset = c.start - (c.passage.start if c.passage else c.start)
        before, after = passage[:offset], passage[offset + len(c.quote) :]
        body = f"{html.escape(before)}<mark>{html.escape(c.quote)}</mark>{html.escape(after)}"
        also = ""
        if c.also_in:
            also = "<br><em>also in: " + ", ".join(html.escape(loc.source) for loc in c.also_in) + "</em>"
        parts.append(
            f"<p><strong>[{i}] {html.escape(c.source)}</strong> [{c.start}:{c.end}]"
            f"{' — ' + meta if meta else ''}<br>{body}{also}</p>"
        )
    return "\n".join(parts)


def build(bot: Assistant) -> gr.Blocks:
    stats = bot.stats()
    with gr.Blocks(title="News Q&A with citations") as page:
        gr.Markdown(
            f"## Ask the articles\n{stats['articles']} articles, {stats['passages']} passages · "
            f"answers: {stats['answerer']} · embedder: {stats['embedder']}"
        )
        chat = gr.Chatbot(label="Conversation", height=420)
        box = gr.Textbox(placeholder="Ask a question about the articles…", label="Question")
        sources = gr.HTML(label="Sources")

        def respond(question: str, history: list[dict]):
            history = list(history or [])
            if not question or not question.strip():
                gr.Warning("Type a question first.")
                yield history, "", gr.update()
                return
            history.append({"role": "user", "content": question})
            try:
                answer = None
                for item in bot.stream(question, history=history[:-1]):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        yield history + [{"role": "assistant", "content": item}], "", gr.update()
            except RagError as exc:
                gr.Warning(str(exc))
                yield history[:-1], question, gr.update()
                return
            history.append({"role": "assistant", "content": answer.text})
            yield history, "", sources_markdown(answer)

        box.submit(respond, [box, chat], [chat, box, sources])
    return page


def main() -> None:
    bot = Assistant()
    bot.warm_up()
    host = os.environ.get("RAG_HOST", "127.0.0.1")
    port = int(os.environ.get("RAG_PORT", "7860"))
    build(bot).queue(default_concurrency_limit=2).launch(server_name=host, server_port=port)


if __name__ == "__main__":
    main()
