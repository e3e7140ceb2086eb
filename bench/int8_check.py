"""Benchmark: does an int8 MiniLM keep our vectors and our retrieval? Accepted only at cos >= 0.99.

    python bench/int8_check.py [--rounds 3]

The float ONNX export (rag.embed) is quantised with ONNX Runtime's `quantize_dynamic` in three
recipes: the default one (per-tensor weights, every op: what bench/embed_speed.py measured),
per-channel weights, and per-channel weights on the weight MatMuls only, with the sensitive ops
kept in float (the feed-forward down-projections, whose GELU activations have long tails, and the
attention's activation-by-activation MatMuls). For each it prints, against the float export:

- min and mean cosine over every passage of the demo corpus and of the SQuAD articles
  (eval/squad2/corpus), split as ingest splits them, and over every question of eval/gold.jsonl,
  eval/heldout.jsonl and eval/squad2/heldout-sample.jsonl;
- retrieval agreement: for each question, the dense top-1 and top-5 passages of its corpus with
  int8 vectors against float vectors (the dense ranking is the only part of retrieval int8 changes);
- speed: passages/s of float and int8 on the same texts, interleaved `--rounds` times (medians),
  with the production batch size and threads.

The bar (issue 14): cos >= 0.99 to the float model, top-1 and top-5 unchanged.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BAR = 0.99


def corpus_passages(folder: Path) -> list[str]:
    from rag.documents import read_article, scan_articles, split_passages

    out = []
    for path in scan_articles(folder).files:
        out += [n.get_content() for n in split_passages(read_article(path, path.name))]
    return out


def questions(*files: Path) -> list[str]:
    out = []
    for f in files:
        for line in f.open(encoding="utf-8"):
            item = json.loads(line) if line.strip() else {}
            out += [item["question"]] if "question" in item else [str(t) for t in item.get("turns", [])]
    return out


def quantise(source: Path, target: Path, recipe: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    kwargs: dict = {"weight_type": QuantType.QInt8}
    if recipe != "default":
        kwargs["per_channel"] = True
    if recipe == "per-channel, sensitive ops float":
        model = onnx.load(str(source))
        shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
        matmuls = [n for n in model.graph.node if n.op_type == "MatMul"]
        activation_only = [n.name for n in matmuls if not any(i in shapes for i in n.input)]
        down = [n.name for n in matmuls if any(len(shapes.get(i, ())) == 2 and shapes[i][0] > shapes[i][1]
                                               for i in n.input)]
        kwargs.update(op_types_to_quantize=["MatMul"], nodes_to_exclude=activation_only + down)
    quantize_dynamic(str(source), str(target), **kwargs)


def agreement(q_ref, p_ref, q_new, p_new) -> tuple[float, float]:
    """Share of questions with the same dense top-1, and with the same top-5 set."""
    r, n = q_ref @ p_ref.T, q_new @ p_new.T
    top_r, top_n = np.argsort(-r, axis=1)[:, :5], np.argsort(-n, axis=1)[:, :5]
    top1 = float((top_r[:, 0] == top_n[:, 0]).mean())
    top5 = float(np.mean([set(a) == set(b) for a, b in zip(top_r, top_n, strict=True)]))
    return top1, top5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import rag.embed as embed

    folder = embed.model_dir()
    float_encoder = embed.load_encoder("onnx")
    source = embed.export_dir(folder) / "model.onnx"
    batch = 16
    sets = {
        "demo": (corpus_passages(ROOT / "data/articles"), questions(ROOT / "eval/gold.jsonl", ROOT / "eval/heldout.jsonl")),
        "squad": (corpus_passages(ROOT / "eval/squad2/corpus"), questions(ROOT / "eval/squad2/heldout-sample.jsonl")),
    }
    ref = {name: (float_encoder.encode(p, batch), float_encoder.encode(q, batch)) for name, (p, q) in sets.items()}
    texts = sets["demo"][0] + sets["squad"][0]
    print(f"float export: {source}; {len(texts)} passages, "
          f"{sum(len(q) for _, q in sets.values())} questions; batch {batch}, {embed.cpu_threads()} threads")
    with tempfile.TemporaryDirectory(prefix="rag-int8-") as tmp:
        for recipe in ("default", "per-channel", "per-channel, sensitive ops float"):
            target = Path(tmp) / f"{recipe.replace(' ', '_').replace(',', '')}.onnx"
            quantise(source, target, recipe)
            encoder = embed.OnnxEncoder(target, folder)
            cosines, agree = [], []
            for name, (p, q) in sets.items():
                p8, q8 = encoder.encode(p, batch), encoder.encode(q, batch)
                cosines.append((p8 * ref[name][0]).sum(axis=1))
                cosines.append((q8 * ref[name][1]).sum(axis=1))
                agree.append((name, *agreement(ref[name][1], ref[name][0], q8, p8)))
            cos = np.concatenate(cosines)
            speeds_f, speeds_8 = [], []
            for _ in range(args.rounds):
                t = time.perf_counter()
                float_encoder.encode(texts, batch)
                speeds_f.append(len(texts) / (time.perf_counter() - t))
                t = time.perf_counter()
                encoder.encode(texts, batch)
                speeds_8.append(len(texts) / (time.perf_counter() - t))
            f, e = statistics.median(speeds_f), statistics.median(speeds_8)
            ok = cos.min() >= BAR and all(a == 1.0 and b == 1.0 for _, a, b in agree)
            print(f"\n{recipe}: {target.stat().st_size / 2**20:.0f} MiB (float {source.stat().st_size / 2**20:.0f} MiB)")
            print(f"  cosine to float: min {cos.min():.4f}, mean {cos.mean():.4f}")
            for name, top1, top5 in agree:
                print(f"  {name}: dense top-1 same for {top1:.1%} of questions, top-5 set same for {top5:.1%}")
            print(f"  speed: float {f:.1f} passages/s, int8 {e:.1f} passages/s ({e / f:.2f}x)")
            print(f"  bar (cos >= {BAR}, retrieval unchanged): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
