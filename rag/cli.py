"""The `rag` command: a thin layer over `Assistant`. User errors are one line and exit non-zero."""

from __future__ import annotations

import json
import sys
import unicodedata
from functools import wraps
from pathlib import Path

import click

from rag.article_names import load_outlet_names
from rag.errors import RagError
from rag.injection import warning as injection_warning


def _fail_cleanly(func):
    """Show a RagError as `Error: …` with exit status 1, never a traceback."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


def printable(text: str) -> str:
    """`text` safe for a terminal: control and format characters (escape sequences, newlines,
    bidi overrides) written as Python escapes, like repr() does (`\x1b`, `\n`, `\u202e`)."""
    return "".join(
        repr(ch)[1:-1] if unicodedata.category(ch)[0] == "C" else ch for ch in str(text)
    )


def _assistant(**overrides):
    from rag.assistant import Assistant

    return Assistant(**overrides)


@click.group()
@click.version_option(package_name="rag")
def main() -> None:
    """Ask questions about a folder of news articles; every answer sentence is cited verbatim."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_fail_cleanly
def ingest(paths: tuple[Path, ...], as_json: bool) -> None:
    """Ingest .txt/.md articles (default: RAG_DATA_DIR); unchanged files are skipped."""
    from tqdm import tqdm

    bot = _assistant()
    bar = None

    def progress(done: int, total: int, source: str) -> None:
        nonlocal bar
        if bar is None and total >= 20:
            bar = tqdm(total=total, unit="file", desc="ingest", file=sys.stderr)
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(printable(source)[-30:])

    report = bot.ingest(list(paths) or None, progress=progress)
    if bar is not None:
        bar.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for label, names in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
            for name in names:
                click.echo(f"{label}: {printable(name)}")
        click.echo(report.summary())
    for _, reason in report.skipped:
        click.echo(f"skipped: {printable(reason)}", err=True)
    for name, n in report.flagged:
        click.echo(f"warning: {injection_warning(printable(name), n)}", err=True)
    if any("does not exist" in reason for _, reason in report.skipped):
        sys.exit(1)


@main.command()
@click.argument("question")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@click.option("--json", "as_json", is_flag=True, help="Print answer and citations as JSON.")
@_fail_cleanly
def ask(question: str, top_k: int | None, as_json: bool) -> None:
    """Answer one question, with citations."""
    bot = _assistant()
    answer = bot.ask(question, k=top_k)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        if answer.corrected_question:
            click.echo(f"(searched for: {answer.corrected_question})", err=True)
        click.echo(format_answer(answer, load_outlet_names(bot.settings.outlet_names)))


@main.command()
@click.option("-k", "--top-k", type=click.IntRange(1, 50), default=None)
@_fail_cleanly
def chat(top_k: int | None) -> None:
    """A conversation in the terminal; follow-up questions use the earlier turns."""
    bot = _assistant()
    outlets = load_outlet_names(bot.settings.outlet_names)
    history: list[dict] = []
    click.echo("Ask about the articles. An empty line or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("you> ").strip()
        except EOFError:
            break
        if not question:
            break
        try:
            answer = bot.ask(question, history=history, k=top_k)
        except RagError as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        click.echo(format_answer(answer, outlets))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]


@main.command()
@click.option("--json", "as_json", is_flag=True)
@_fail_cleanly
def stats(as_json: bool) -> None:
    """Articles, passages, store location and embedder."""
    info = _assistant().stats()
    if as_json:
        click.echo(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            click.echo(f"{key:>10}: {value}")


@main.command(name="eval")
@click.option("--gold", type=click.Path(path_type=Path), default=Path("eval/gold.jsonl"),
              show_default=True, help="Gold questions (JSONL).")
@click.option("--conversations", type=click.Path(path_type=Path),
              default=Path("eval/conversations.jsonl"), show_default=True,
              help="Multi-turn conversations (JSONL); skipped when the default file is absent.")
@click.option("-k", "--top-k", type=click.IntRange(1, 50), default=None,
              help="Passages per question (default: RAG_TOP_K).")
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for report.json, report.html (and ragas.jsonl for the gold set) "
              "[default: eval/reports/latest; eval/reports/squad with --squad].")
@click.option("--baseline/--no-baseline", default=True, show_default=True,
              help="Also score the naive llama-index retriever (with --squad: the five-line ranker).")
@click.option("--judge", type=click.Choice(["openai"]), default=None,
              help="Also grade answers with an LLM judge (OPENAI_API_KEY or OPENAI_BASE_URL).")
@click.option("--check", is_flag=True, help="Exit 1 when a quality threshold fails.")
@click.option("--squad", "squad_file", type=click.Path(path_type=Path), default=None,
              help="Score a SQuAD-shaped question set (JSONL) instead of the gold set; needs --data.")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="With --squad: the folder the questions are about, ingested into a temporary store.")
@click.option("--sources", default=None,
              help="With --squad: only questions whose source is one of these files (comma-separated).")
@click.option("--limit", type=click.IntRange(1, None), default=None,
              help="With --squad: only the first N questions (after --sources).")
@_fail_cleanly
def eval_(gold: Path, conversations: Path, top_k: int | None, report_dir: Path | None, baseline: bool,
          judge: str | None, check: bool, squad_file: Path | None, data_dir: Path | None,
          sources: str | None, limit: int | None) -> None:
    """Score the chatbot on the gold set: retrieval, answers, citations, refusals, latency.

    With --squad FILE --data DIR: any SQuAD-shaped set over a folder, beside a five-line ranker."""
    from tqdm import tqdm

    if squad_file is not None or data_dir is not None:
        if judge is not None:
            raise RagError("--judge applies to the gold set only, not to --squad")
        if squad_file is None or data_dir is None:
            raise RagError("--squad and --data go together: pass the question file and the folder it is about")
        _eval_squad(squad_file, data_dir, top_k, report_dir or Path("eval/reports/squad"), baseline,
                    sources, limit, check)
        return
    if sources is not None or limit is not None:
        raise RagError("--sources and --limit apply to --squad only")
    report_dir = report_dir or Path("eval/reports/latest")

    from rag.eval.report import summary, write
    from rag.eval.runner import load_items, run

    default_conversations = conversations == Path("eval/conversations.jsonl")
    if (default_conversations and not conversations.exists()) or str(conversations) in ("", ".", "none"):
        conversations = None  # `--conversations none`: the gold file alone (it may hold conversations too)
    items = load_items(gold, conversations)
    grader = None
    if judge == "openai":  # checked first: a missing key fails before any model loads
        from rag.config import Settings
        from rag.eval.judge import OpenAIJudge

        grader = OpenAIJudge(Settings.from_env())
    bot = _assistant()
    bar = tqdm(total=len(items), unit="q", desc="eval", file=sys.stderr, leave=False, disable=not sys.stderr.isatty())

    def progress(done: int, total: int, item_id: str) -> None:
        bar.update(1)
        bar.set_postfix_str(item_id)

    report = run(bot, items, k=top_k, baseline=baseline, progress=progress, judge=grader)
    bar.close()
    paths = write(report, report_dir)
    click.echo(summary(report))
    click.echo(f"\nreport: {paths['html']}  ({paths['json'].name}, {paths['ragas'].name})")
    if check:
        _exit_on_failed_check(report["check"])


def _eval_squad(squad_file: Path, data_dir: Path, top_k: int | None, report_dir: Path, baseline: bool,
                sources: str | None, limit: int | None, check: bool) -> None:
    """`rag eval --squad`: DIR into a temporary store, every question through `Assistant.ask`."""
    import tempfile

    from tqdm import tqdm

    from rag.eval.report import squad_summary, write_squad
    from rag.eval.squad import load_squad, run_squad

    if not data_dir.is_dir():
        raise RagError(f"{data_dir} is not a folder; pass the folder the questions are about with --data")
    wanted = [s.strip() for s in sources.split(",") if s.strip()] if sources else None
    items = load_squad(squad_file, sources=wanted, limit=limit)
    if not items:
        raise RagError(f"{squad_file} holds no questions")
    with tempfile.TemporaryDirectory(prefix="rag-squad-", ignore_cleanup_errors=True) as tmp:
        # Never a Chroma server here: the questions' folder goes into a throw-away local store.
        bot = _assistant(data_dir=data_dir, store_dir=Path(tmp), chroma_host=None)
        bar = tqdm(total=len(items), unit="q", desc="eval", file=sys.stderr, leave=False,
                   disable=not sys.stderr.isatty())

        def progress(done: int, total: int, item_id: str) -> None:
            bar.update(1)

        meta = {"squad_file": str(squad_file), "sources": ",".join(wanted) if wanted else None, "limit": limit}
        report = run_squad(bot, items, k=top_k, baseline=baseline, progress=progress, meta=meta)
        bar.close()
    paths = write_squad(report, report_dir)
    click.echo(squad_summary(report))
    click.echo(f"\nreport: {paths['html']}  ({paths['json'].name})")
    if check:
        _exit_on_failed_check(report["check"])


def _exit_on_failed_check(failures: list[str]) -> None:
    """`--check`: each failed threshold on stderr and exit 1, or say the check passed."""
    if failures:
        for failure in failures:
            click.echo(f"check failed: {failure}", err=True)
        sys.exit(1)
    click.echo("check passed")


@main.command()
@_fail_cleanly
def serve() -> None:
    """Open the web UI on RAG_HOST:RAG_PORT (default 127.0.0.1:7860)."""
    import runpy

    app = Path(__file__).resolve().parents[1] / "app.py"
    if not app.exists():
        raise RagError(f"{app} not found; run `rag serve` from a checkout of the project")
    runpy.run_path(str(app), run_name="__main__")


def format_answer(answer, outlets: dict[str, str] | None = None) -> str:
    """The answer, then each citation: the article's name, outlet and date, the file and offsets,
    the quote, and other files carrying it."""
    from rag.article_names import name_article
    from rag.models import unsure_note

    lines = [answer.text]
    if answer.standalone_question:
        lines.insert(0, f"(read as: {answer.standalone_question})")
    for c in answer.leads:
        lines.append(f'short: "{c.quote}" {c.source} [{c.start}:{c.end}]')
    for i, c in enumerate(answer.citations, 1):
        name = name_article(c.source, c.title, c.date, c.outlet, c.path, outlets)
        lines.append(f"[{i}] {name.label}{f' — {name.byline}' if name.byline else ''}")
        lines.append(f"    {c.source} [{c.start}:{c.end}]")
        lines.append(f'    "{c.quote}"')
        if c.also_in:
            lines.append("    also in: " + ", ".join(f"{loc.source} [{loc.start}:{loc.end}]" for loc in c.also_in))
    if answer.confidence is not None and answer.mode == "extractive":
        lines.append(f"confidence {answer.confidence:.2f}" + (" (below the operating point: refused)" if answer.refused else ""))
    note = unsure_note(answer.refused, answer.mode, answer.confidence)
    if note:
        lines.append(note)
    if answer.notice:
        lines.append(f"note: {answer.notice}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
