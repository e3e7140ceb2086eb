"""Writes heldout-sample.jsonl: a fixed, seeded draw of held-out questions for the test gate.

60 answerable and 60 unanswerable questions drawn with `random.Random(SEED)` from the HELD-OUT
articles' questions (force.txt, french-and-indian-war.txt), never chosen by looking at them; the
lines keep their order in questions.jsonl. Rerunning it rewrites the same file byte for byte.

    python eval/squad2/make_sample.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
HELD_OUT = ("force.txt", "french-and-indian-war.txt")
SEED = 11
PER_KIND = 60


def main() -> None:
    lines = (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    records = [(n, json.loads(line)) for n, line in enumerate(lines) if line.strip()]
    held = [(n, r) for n, r in records if r["source"] in HELD_OUT]
    rng = random.Random(SEED)
    chosen: list[int] = []
    for answerable in (True, False):
        pool = [n for n, r in held if bool(r["answerable"]) is answerable]
        chosen += rng.sample(pool, PER_KIND)
    out = HERE / "heldout-sample.jsonl"
    out.write_text("".join(lines[n] + "\n" for n in sorted(chosen)), encoding="utf-8")
    print(f"{out}: {len(chosen)} questions ({PER_KIND} answerable, {PER_KIND} unanswerable), seed {SEED}")


if __name__ == "__main__":
    main()
