"""Offline evaluation of the chatbot: metrics (EVAL.md), a runner over `Assistant`, a llama-index
baseline, and report writers (terminal summary, report.json, report.html, ragas.jsonl).

    from rag.assistant import Assistant
    from rag.eval.runner import load_items, run
    from rag.eval.report import summary, write

    report = run(Assistant(), load_items("eval/gold.jsonl", "eval/conversations.jsonl"))
    print(summary(report)); write(report, "eval/reports/latest")
"""
