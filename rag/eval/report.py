"""Writes the evaluation: a terminal summary, report.json, a self-contained report.html, ragas.jsonl."""

from __future__ import annotations

import html
import json
from pathlib import Path

RAGAS_COLUMNS = (
    "user_input",
    "response",
    "retrieved_contexts",
    "reference",
    "reference_contexts",
    "retrieved_context_ids",
    "reference_context_ids",
)


def _f(value, digits: int = 3) -> str:
    return "  n/a" if value is None else f"{value:.{digits}f}"


def _ms(value) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms"


def summary(report: dict) -> str:
    """One screen: overall numbers, the baseline side by side, per-type coverage and refusals."""
    o, meta = report["overall"], report["meta"]
    base = report.get("baseline")
    lines = [
        f"rag eval: {o['items']} items ({o['answerable']} answerable, {o['unanswerable']} unanswerable), "
        f"k={meta['k']}, answerer={meta['answerer']}",
        "",
        f"{'retrieval (answerable)':<24}{'ours':>8}" + (f"{'baseline':>10}" if base else ""),
    ]
    for key, label in (
        ("hit", "hit@k"),
        ("recall", "recall@k"),
        ("mrr", "MRR@k"),
        ("ndcg", "nDCG@k"),
        ("context_recall", "context recall"),
    ):
        line = f"  {label:<22}{_f(o[key]):>8}"
        if base:
            line += f"{_f(base['overall'][key]):>10}"
        lines.append(line)
    if base:
        lines.append(
            f"  (baseline: naive llama-index, default top-k={base['top_k']}, {base['nodes']} nodes)"
        )
    lines += [
        "",
        f"answers     fact coverage {_f(o['fact_coverage'])}   token F1 {_f(o['token_f1'])}",
        f"citations   validity {_f(o['citation_validity'])} ({o['citations']})   "
        f"recall {_f(o['citation_recall'])}   precision {_f(o['citation_precision'])}   "
        f"[support: {meta['support_rule']}]",
        f"            gold-source rate {_f(o['gold_source_rate'])}   source precision "
        f"{_f(o['source_precision'])}   source recall {_f(o['source_recall'])}",
        f"refusals    recall {_f(o['refusal_recall'])}   false-refusal rate {_f(o['false_refusal_rate'])}   "
        f"answered precision {_f(o['answered_precision'])}",
        f"latency     ask p50 {_ms(o['latency_s']['p50'])}  p95 {_ms(o['latency_s']['p95'])}   "
        f"retrieve p50 {_ms(o['retrieval_latency_s']['p50'])}  p95 {_ms(o['retrieval_latency_s']['p95'])}",
    ]
    if report.get("judge"):
        j = report["judge"]
        lines.append(f"judge       {j['judge']}: accuracy {_f(j['accuracy'])} (answerable items)")
    lines += [
        "",
        f"{'type':<14}{'n':>4}{'facts':>8}{'F1':>7}{'hit':>7}{'refused':>9}{'base hit':>10}",
    ]
    for t, a in report["by_type"].items():
        refused = sum(1 for r in report["rows"] if r["type"] == t and r["refused"])
        bh = base["by_type"][t]["hit"] if base else None
        lines.append(
            f"  {t:<12}{a['items']:>4}{_f(a['fact_coverage'], 2):>8}{_f(a['token_f1'], 2):>7}"
            f"{_f(a['hit'], 2):>7}{refused:>5}/{a['items']:<3}{_f(bh, 2):>10}"
        )
    return "\n".join(lines)


def ragas_rows(report: dict) -> list[dict]:
    out = []
    for r in report["rows"]:
        out.append(
            {
                "user_input": r["question"]
                if len(r["turns"]) == 1
                else r["standalone_question"] or r["question"],
                "response": r["answer"],
                "retrieved_contexts": [p["text"] for p in r["retrieved"]],
                "reference": r["reference"],
                "reference_contexts": [],
                "retrieved_context_ids": [p["id"] for p in r["retrieved"]],
                "reference_context_ids": list(r["sources"]),
                "id": r["id"],
                "type": r["type"],
            }
        )
    return out


def write(report: dict, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "html": out / "report.html", "ragas": out / "ragas.jsonl"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(to_html(report), encoding="utf-8")
    with paths["ragas"].open("w", encoding="utf-8") as fh:
        for row in ragas_rows(report):
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return paths


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.fail{color:#b00020;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}
.muted{color:#666;font-size:.85em}blockquote{margin:.2em 0;padding-left:.5em;border-left:3px solid #ccc}
svg text{font-family:inherit;font-size:11px}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def bar_chart(
    labels: list[str],
    values: list[float | None],
    width: int = 640,
    height: int = 240,
    title: str = "",
) -> str:
    """A vertical bar chart of values in [0, 1], as inline SVG."""
    n = max(len(labels), 1)
    left, bottom, top = 40, 50, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    bw = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        x = left + i * bw + bw * 0.15
        h = plot_h * (v or 0.0)
        color = "#1976d2" if (v or 0) >= 0.9 else "#f57c00"
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bw * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{color}"><title>{_e(label)}: {_num(v)}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bw * 0.35:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">'
            f"{'n/a' if v is None else f'{v:.2f}'}</text>"
        )
        parts.append(
            f'<text x="{x + bw * 0.35:.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle">'
            f"{_e(label)}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#444"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def histogram(values: list[float], width: int = 640, height: int = 220, bins: int = 12) -> str:
    """A histogram of latencies (seconds, shown in ms), as inline SVG."""
    if not values:
        return "<p class='muted'>no latencies</p>"
    ms = [v * 1000 for v in values]
    lo, hi = min(ms), max(ms)
    span = (hi - lo) or 1.0
    counts = [0] * bins
    for v in ms:
        counts[min(int((v - lo) / span * bins), bins - 1)] += 1
    top_count = max(counts)
    left, bottom, top = 40, 40, 15
    plot_w, plot_h = width - left - 10, height - bottom - top
    bw = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="latency histogram">'
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / top_count
        x = left + i * bw
        a, b = lo + span * i / bins, lo + span * (i + 1) / bins
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{top + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
            f'fill="#26a69a"><title>{a:.0f}–{b:.0f} ms: {c}</title></rect>'
        )
        if c:
            parts.append(
                f'<text x="{x + bw / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">{c}</text>'
            )
    for i in range(0, bins + 1, max(bins // 6, 1)):
        x = left + i * bw
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{lo + span * i / bins:.0f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">ms per question</text>'
    )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#444"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _is_miss(r: dict) -> bool:
    if not r["answerable"]:
        return not r["refused"]
    return (
        r["refused"]
        or (r.get("fact_coverage") is not None and r["fact_coverage"] < 1.0)
        or (r.get("citation_validity") is not None and r["citation_validity"] < 1.0)
    )


def to_html(report: dict) -> str:
    o, meta = report["overall"], report["meta"]
    base = report.get("baseline")
    failed = report.get("check", [])
    gate = (
        f"<p class='fail'>Quality gate failed: {_e('; '.join(failed))}</p>"
        if failed
        else "<p class='ok'>Quality gate passed.</p>"
    )

    def metric_rows(keys):
        return "".join(
            f"<tr><td>{_e(label)}</td><td class='n'>{_num(o[key])}</td>"
            + (
                f"<td class='n'>{_num(base['overall'][key])}</td>"
                if base and key in base["overall"]
                else ("<td></td>" if base else "")
            )
            + "</tr>"
            for key, label in keys
        )

    retrieval = metric_rows(
        [
            ("hit", "hit@k"),
            ("recall", "recall@k"),
            ("mrr", "MRR@k"),
            ("ndcg", "nDCG@k"),
            ("context_recall", "context recall"),
        ]
    )
    others = "".join(
        f"<tr><td>{_e(label)}</td><td class='n'>{_num(o[key])}</td></tr>"
        for key, label in (
            ("fact_coverage", "fact coverage"),
            ("token_f1", "token F1"),
            ("citation_validity", "citation validity"),
            ("also_in_validity", "also_in validity"),
            ("citation_recall", f"citation recall [{meta['support_rule']}]"),
            ("citation_precision", f"citation precision [{meta['support_rule']}]"),
            ("gold_source_rate", "gold-source rate"),
            ("source_precision", "source precision"),
            ("source_recall", "source recall"),
            ("refusal_recall", "refusal recall"),
            ("false_refusal_rate", "false-refusal rate"),
            ("answered_precision", "answered precision"),
        )
    )
    lat = (
        f"ask p50 {_ms(o['latency_s']['p50'])}, p95 {_ms(o['latency_s']['p95'])}; retrieve p50 "
        f"{_ms(o['retrieval_latency_s']['p50'])}, p95 {_ms(o['retrieval_latency_s']['p95'])}"
    )

    keys = (
        "items",
        "fact_coverage",
        "token_f1",
        "hit",
        "mrr",
        "ndcg",
        "context_recall",
        "citation_recall",
        "citation_precision",
        "refusal_recall",
        "false_refusal_rate",
    )
    by_type = "".join(
        f"<tr><td>{_e(t)}</td>"
        + "".join(f"<td class='n'>{a[k] if k == 'items' else _num(a[k])}</td>" for k in keys)
        + (f"<td class='n'>{_num(base['by_type'][t]['hit'])}</td>" if base else "")
        + "</tr>"
        for t, a in report["by_type"].items()
    )
    type_head = "".join(f"<th>{_e(k)}</th>" for k in ("type", *keys)) + (
        "<th>baseline hit</th>" if base else ""
    )

    misses = []
    for r in report["rows"]:
        if not _is_miss(r):
            continue
        facts = (
            "<br>".join(
                ("✔ " if covered else "✘ ") + _e(" / ".join(g))
                for g, covered in zip(
                    r["facts"], r.get("facts_covered") or [False] * len(r["facts"]), strict=False
                )
            )
            or "<span class='muted'>(unanswerable: a refusal was expected)</span>"
        )
        quotes = "".join(
            f"<blockquote>[{i}] {_e(c['quote'])} <span class='muted'>{_e(c['source'])} "
            f"[{c['start']}:{c['end']}]{'' if c['valid'] else ' INVALID'}</span></blockquote>"
            for i, c in enumerate(r["citations"], 1)
        )
        question = "<br>".join(_e(t) for t in r["turns"])
        misses.append(
            f"<tr><td>{_e(r['id'])}<br><span class='muted'>{_e(r['type'])}</span></td><td>{question}</td>"
            f"<td>{_e(r['answer'])}</td><td>{facts}</td><td>{quotes}</td>"
            f"<td class='n'>{_num(r.get('fact_coverage'))}</td></tr>"
        )
    miss_table = (
        "<table><tr><th>id</th><th>question</th><th>answer</th><th>expected facts</th>"
        "<th>cited quotes</th><th>coverage</th></tr>" + "".join(misses) + "</table>"
        if misses
        else "<p>No misses.</p>"
    )

    types = list(report["by_type"])
    chart = bar_chart(
        types, [report["by_type"][t]["fact_coverage"] for t in types], title="fact coverage by type"
    )
    hist = histogram([r["latency_s"] for r in report["rows"] if r.get("latency_s") is not None])
    base_note = (
        f"<p class='muted'>Baseline: {_e(base['pipeline'])}; default top-k={base['top_k']}, "
        f"{base['nodes']} nodes. {_e(base['note'])}.</p>"
        if base
        else ""
    )
    rules = "".join(
        f"<li><b>{_e(k)}</b>: {_e(meta[k])}</li>"
        for k in (
            "support_rule_doc",
            "fact_coverage_rule",
            "context_recall_rule",
            "retrieval_rule",
            "correct_rule",
            "latency_method",
        )
    )
    j = report.get("judge")
    judge = (
        f"<p>LLM judge {_e(j['judge'])}: accuracy {_num(j['accuracy'])} on answerable items "
        f"<span class='muted'>({_e(j['rule'])})</span></p>"
        if j
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RAG evaluation</title><style>{_CSS}</style></head>
<body>
<h1>RAG evaluation</h1>
<p class="muted">{_e(meta["started"])} · {o["items"]} items ({o["answerable"]} answerable) · k={meta["k"]} ·
answerer {_e(meta["answerer"])} · store {_e(meta["store"])}</p>
{gate}
<h2>Retrieval</h2>
<table><tr><th>metric</th><th>ours</th>{"<th>baseline</th>" if base else ""}</tr>{retrieval}</table>
{base_note}
<h2>Answers, citations, refusals</h2>
<table><tr><th>metric</th><th>value</th></tr>{others}</table>
<p>Latency: {lat}</p>
{judge}
<h2>Fact coverage by type</h2>
{chart}
<h2>Latency</h2>
{hist}
<h2>By type</h2>
<table><tr>{type_head}</tr>{by_type}</table>
<h2>Misses ({len(misses)})</h2>
{miss_table}
<h2>Definitions</h2>
<ul>{rules}</ul>
</body></html>
"""
