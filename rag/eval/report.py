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
        _leads_line(o),
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
        f"<tr><td>{_e(label)}</td><td class='n'>{_num(o.get(key))}</td></tr>"
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
            ("lead_precision", _leads_label(o)),
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
    curve_chart, roc = refusal_charts(report.get("curve") or [], "correct")
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
<h2>Refusal trade-off (Answer.confidence)</h2>
<p class="muted">What refusing every answer whose confidence is below t would do; the default operating point is
RAG_MIN_CONFIDENCE (the reader's fitted default when unset).</p>
{curve_chart}
{roc}
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


# --- line charts and the SQuAD-shaped report (`rag eval --squad`) ------------------------------

_SERIES_COLORS = ("#1976d2", "#d32f2f", "#2e7d32", "#f57c00", "#6a1b9a")


def line_chart(
    series: list[tuple[str, list[tuple[float, float | None]]]],
    width: int = 640,
    height: int = 280,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
) -> str:
    """Lines of (x, y) points, both axes in [0, 1], with a legend, as inline SVG.

    A point whose y is None is skipped (the line joins its neighbours)."""
    left, right, bottom, top = 48, 175, 40, 15
    plot_w, plot_h = width - left - right, height - bottom - top

    def px(x: float) -> float:
        return left + plot_w * min(max(x, 0.0), 1.0)

    def py(y: float) -> float:
        return top + plot_h * (1 - min(max(y, 0.0), 1.0))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" y1="{py(tick):.1f}" x2="{left + plot_w}" y2="{py(tick):.1f}" stroke="#eee"/>'
        )
        parts.append(f'<text x="{left - 4}" y="{py(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle">{tick:.2f}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#444"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>'
    )
    if x_label:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle">{_e(x_label)}</text>'
        )
    if y_label:
        parts.append(
            f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{_e(y_label)}</text>'
        )
    for i, (label, points) in enumerate(series):
        color = _SERIES_COLORS[i % len(_SERIES_COLORS)]
        pts = [(x, y) for x, y in points if y is not None]
        if pts:
            coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2">'
                f"<title>{_e(label)}</title></polyline>"
            )
            for x, y in pts:
                parts.append(
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2" fill="{color}">'
                    f"<title>{_e(label)}: ({x:.2f}, {y:.3f})</title></circle>"
                )
        ly = top + 10 + 18 * i
        parts.append(
            f'<line x1="{left + plot_w + 12}" y1="{ly}" x2="{left + plot_w + 30}" y2="{ly}" '
            f'stroke="{color}" stroke-width="2"/>'
            f'<text x="{left + plot_w + 34}" y="{ly + 4}">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def refusal_charts(pts: list[dict], answered_label: str) -> tuple[str, str]:
    """The refusal trade-off as two SVG charts: rates by threshold, and refused against false refusals."""
    by_threshold = line_chart(
        [
            ("unanswerable refused", [(p["threshold"], p["unanswerable_refused"]) for p in pts]),
            ("false refusals", [(p["threshold"], p["false_refusal_rate"]) for p in pts]),
            (answered_label, [(p["threshold"], p["contains"]) for p in pts]),
        ],
        title="refusal trade-off by confidence threshold",
        x_label="refuse when confidence < t",
        y_label="share",
    )
    roc = line_chart(
        [
            (
                "unanswerable refused",
                [(p["false_refusal_rate"], p["unanswerable_refused"]) for p in pts if p["false_refusal_rate"] is not None],
            )
        ],
        title="unanswerable refused against false refusals",
        x_label="false-refusal rate",
        y_label="unanswerable refused",
    )
    return by_threshold, roc


def _words(value) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _leads_line(o: dict) -> str:
    """The bold leads: how many answers open with one, how often it is right (a lead on a question
    the articles cannot answer is wrong), and how many of them are on such questions."""
    if not o.get("led"):
        return "leads       no answer opens with a bold lead"
    return (
        f"leads       {o['led']} answers open with a bold lead: right {_f(o['lead_precision'])}, "
        f"{o['led_unanswerable']} of them on unanswerable questions"
    )


def _leads_label(o: dict) -> str:
    """The report table's label for the share of bold leads that are right."""
    return f"bold leads right ({o.get('led', 0)} led, {o.get('led_unanswerable', 0)} on unanswerable questions)"


def squad_summary(report: dict) -> str:
    """One screen for `rag eval --squad`: ours beside the five-line ranker, the curve, calibration."""
    o, meta, base = report["overall"], report["meta"], report.get("baseline")
    src = f", sources {meta['sources']}" if meta.get("sources") else ""
    lines = [
        f"rag eval --squad: {o['items']} questions ({o['answerable']} answerable, {o['unanswerable']} "
        f"unanswerable){src}, k={meta['k']}, answerer={meta['answerer']}",
        "",
        f"{'':<26}{'ours':>8}" + (f"{'five-line':>11}" if base else ""),
        f"  {'contains gold':<24}{_f(o['contains']):>8}" + (f"{_f(base['contains']):>11}" if base else ""),
        f"  {'median answer words':<24}{_words(o['median_words']):>8}"
        + (f"{_words(base['median_words']):>11}" if base else ""),
        f"  {'gold paragraph cited':<24}{_f(o['gold_paragraph_cited']):>8}"
        + (f"{_f(base['gold_paragraph_cited']):>11}" if base else ""),
        f"  {'retrieved@k':<24}{_f(o['retrieved_at_k']):>8}",
        f"  {'false-refusal rate':<24}{_f(o['false_refusal_rate']):>8}",
        f"  {'unanswerable refused':<24}{_f(o['unanswerable_refused']):>8}",
        _leads_line(o),
        f"latency     ask p50 {_ms(o['latency_s']['p50'])}  p95 {_ms(o['latency_s']['p95'])}"
        + (f"   (five-line p50 {_ms(base['latency_s']['p50'])})" if base else ""),
    ]
    if o.get("errors"):
        lines.append(f"errors      {o['errors']} questions raised an error (counted as refused)")
    reported = meta.get("confidence_reported", 0)
    lines.append("")
    if reported:
        lines.append(f"confidence  given on {reported}/{o['items']} answers; refusing below t would give:")
        lines.append(f"  {'t':>6}{'unans refused':>15}{'false refusals':>16}{'contains':>10}")
        for p in report["curve"]:
            if round(p["threshold"] * 100) % 20 == 0:
                lines.append(
                    f"  {p['threshold']:>6.2f}{_f(p['unanswerable_refused']):>15}"
                    f"{_f(p['false_refusal_rate']):>16}{_f(p['contains']):>10}"
                )
        lines.append(
            "  calibration (answered, answerable): "
            + "  ".join(f"{b['bin']}: {_f(b['contains'], 2).strip()} (n={b['count']})" for b in report["calibration"])
        )
    else:
        lines.append("confidence  not given by the answerer (the curve is flat at the actual refusals)")
    return "\n".join(lines)


def squad_html(report: dict) -> str:
    o, meta, base = report["overall"], report["meta"], report.get("baseline")
    failed = report.get("check", [])
    gate = (
        f"<p class='fail'>Below the issue-11 bar: {_e('; '.join(failed))}</p>"
        if failed
        else "<p class='ok'>Meets the issue-11 bar.</p>"
    )

    def row(label, ours, theirs=None, fmt=_num):
        other = (f"<td class='n'>{fmt(theirs) if theirs is not None else ''}</td>") if base else ""
        return f"<tr><td>{_e(label)}</td><td class='n'>{fmt(ours)}</td>{other}</tr>"

    metrics = "".join(
        (
            row("contains gold (answerable)", o["contains"], base and base["contains"]),
            row("median answer words (answered)", o["median_words"], base and base["median_words"], _words),
            row("gold paragraph cited", o["gold_paragraph_cited"], base and base["gold_paragraph_cited"]),
            row("retrieved@k (gold paragraph)", o["retrieved_at_k"], None),
            row("false-refusal rate", o["false_refusal_rate"], None),
            row("unanswerable refused", o["unanswerable_refused"], None),
            row("answered precision", o["answered_precision"], None),
            row(_leads_label(o), o.get("lead_precision"), None),
        )
    )
    lat = f"ask p50 {_ms(o['latency_s']['p50'])}, p95 {_ms(o['latency_s']['p95'])}" + (
        f"; five-line ranker p50 {_ms(base['latency_s']['p50'])}, p95 {_ms(base['latency_s']['p95'])}"
        if base
        else ""
    )
    src_keys = ("items", "contains", "gold_paragraph_cited", "retrieved_at_k", "false_refusal_rate",
                "unanswerable_refused", "median_words")
    by_source = "".join(
        f"<tr><td>{_e(s)}</td>"
        + "".join(
            f"<td class='n'>{a[k] if k == 'items' else (_words(a[k]) if k == 'median_words' else _num(a[k]))}</td>"
            for k in src_keys
        )
        + "</tr>"
        for s, a in report["by_source"].items()
    )
    pts = report["curve"]
    curve_chart, roc = refusal_charts(pts, "contains gold")
    curve_rows = "".join(
        f"<tr><td class='n'>{p['threshold']:.2f}</td><td class='n'>{_num(p['unanswerable_refused'])}</td>"
        f"<td class='n'>{_num(p['false_refusal_rate'])}</td><td class='n'>{_num(p['contains'])}</td>"
        f"<td class='n'>{p['answered']}</td></tr>"
        for p in pts
    )
    calib = "".join(
        f"<tr><td>{_e(b['bin'])}</td><td class='n'>{b['count']}</td><td class='n'>{_num(b['contains'])}</td>"
        f"<td class='n'>{_num(b['mean_confidence'])}</td><td class='n'>{b['count_with_unanswerable']}</td>"
        f"<td class='n'>{_num(b['contains_with_unanswerable'])}</td></tr>"
        for b in report["calibration"]
    )
    misses = []
    for r in report["rows"]:
        miss = (not r["refused"]) if not r["answerable"] else not r["contains"]
        if not miss:
            continue
        b = r.get("baseline") or {}
        misses.append(
            f"<tr><td>{_e(r['id'])}<br><span class='muted'>{_e(r['source'])}</span></td><td>{_e(r['question'])}</td>"
            f"<td>{_e(' / '.join(r['answers'])) or '<span class=muted>(unanswerable)</span>'}</td>"
            f"<td>{'<i>refused</i> ' if r['refused'] else ''}{_e(r['answer'])}"
            f"{' <span class=fail>' + _e(r['error']) + '</span>' if r.get('error') else ''}</td>"
            f"<td class='n'>{_num(r['confidence'])}</td>"
            f"<td>{'✔' if b.get('contains') else ''} {_e(b.get('answer', ''))}</td></tr>"
        )
    miss_table = (
        "<table><tr><th>id</th><th>question</th><th>gold</th><th>our answer</th><th>confidence</th>"
        "<th>five-line ranker</th></tr>" + "".join(misses) + "</table>"
        if misses
        else "<p>No misses.</p>"
    )
    hist = histogram([r["latency_s"] for r in report["rows"] if r.get("latency_s") is not None])
    rules = "".join(f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in meta.items() if k.endswith(("_rule", "_method")) or k == "normalisation")
    given = meta.get("confidence_reported", 0)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RAG evaluation: SQuAD-shaped set</title><style>{_CSS}</style></head>
<body>
<h1>RAG evaluation: SQuAD-shaped set</h1>
<p class="muted">{_e(meta["started"])} · {_e(meta.get("squad_file", ""))} · {o["items"]} questions
({o["answerable"]} answerable, {o["unanswerable"]} unanswerable){" · sources " + _e(meta["sources"]) if meta.get("sources") else ""}
· k={meta["k"]} · answerer {_e(meta["answerer"])} · data {_e(meta["data_dir"])} (temporary store)</p>
{gate}
<h2>Ours and the five-line ranker</h2>
<table><tr><th>metric</th><th>ours</th>{"<th>five-line ranker</th>" if base else ""}</tr>{metrics}</table>
<p>Latency: {lat}</p>
<h2>Refusal trade-off</h2>
<p class="muted">Confidence given on {given} of {o["items"]} answers (None reads 1.0 when answered, 0.0 when refused).
Refusing every answer with confidence &lt; t, on top of the answerer's own refusals:</p>
{curve_chart}
{roc}
<details><summary>curve points</summary>
<table><tr><th>t</th><th>unanswerable refused</th><th>false refusals</th><th>contains</th><th>answered</th></tr>{curve_rows}</table>
</details>
<h2>Calibration</h2>
<table><tr><th>confidence</th><th>answered (answerable)</th><th>contain the gold</th><th>mean confidence</th>
<th>answered (all)</th><th>right (all; unanswerable = miss)</th></tr>{calib}</table>
<h2>By source</h2>
<table><tr>{"".join(f"<th>{_e(k)}</th>" for k in ("source", *src_keys))}</tr>{by_source}</table>
<h2>Latency</h2>
{hist}
<h2>Misses ({len(misses)})</h2>
{miss_table}
<h2>Definitions</h2>
<ul>{rules}</ul>
</body></html>
"""


def write_squad(report: dict, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(squad_html(report), encoding="utf-8")
    return paths
