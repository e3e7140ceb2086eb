"""Benchmark: embedding runtimes for all-MiniLM-L6-v2 on this CPU, speed and equivalence to the float model.

    python bench/embed_speed.py [--n 1000] [--quick]

Passages are ~100-word windows of the demo corpus (data/articles), at seeded random starts with
40–160 words, `--n` of them; queries are the gold-set questions (eval/gold.jsonl). The reference
is the float sentence-transformers model (batch 64, as before this benchmark). For every candidate
it prints passages/s over all `--n` texts, single-query latency p50 (each question embedded alone,
after a warm-up), and against the reference: min/mean cosine between the two vectors of the same
text (passages and queries), and top-10 neighbour overlap and top-1 agreement of the queries over
the passages.

Candidates: torch float through sentence-transformers (batch 16/32/64/128, 1 or 2 threads, and
"unsorted" = one encode call per batch so nothing is sorted across batches), torch dynamic int8
(`quantize_dynamic` on nn.Linear), ONNX Runtime fp32 (rag.embed's export; batch 8–128), ONNX
Runtime with the transformer fusions of `onnxruntime.transformers.optimizer`, and ONNX Runtime
dynamic int8 (`onnxruntime.quantization.quantize_dynamic`). `--quick` runs fewer variants.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def passages(n: int, seed: int = 0) -> list[str]:
    """`n` passage-like windows of the demo corpus: varied starts and lengths (40–160 words)."""
    rng = random.Random(seed)
    words_by_file = [
        p.read_text(encoding="utf-8").split() for p in sorted((ROOT / "data/articles").glob("*.txt"))
    ]
    out = []
    while len(out) < n:
        words = rng.choice(words_by_file)
        size = rng.randint(40, 160)
        start = rng.randrange(0, max(1, len(words) - size))
        out.append(" ".join(words[start : start + size]))
    return out


def questions() -> list[str]:
    with (ROOT / "eval/gold.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


def measure(encode: Callable[[list[str]], np.ndarray], texts: list[str], queries: list[str]) -> dict:
    encode(texts[:16])  # warm-up
    t = time.perf_counter()
    p = np.asarray(encode(texts), dtype=np.float32)
    rate = len(texts) / (time.perf_counter() - t)
    for q in queries[:5]:
        encode([q])
    latencies, rows = [], []
    for _ in range(3):
        for q in queries:
            t = time.perf_counter()
            rows.append(encode([q])[0])
            latencies.append((time.perf_counter() - t) * 1000)
    q = np.asarray(rows[: len(queries)], dtype=np.float32)
    return {"rate": rate, "p50_ms": statistics.median(latencies), "p": p, "q": q}


def compare(ref: dict, got: dict, k: int = 10) -> dict:
    cos = np.concatenate([(ref["p"] * got["p"]).sum(1), (ref["q"] * got["q"]).sum(1)])
    ref_top = np.argsort(-(ref["q"] @ ref["p"].T), axis=1)[:, :k]
    got_top = np.argsort(-(got["q"] @ got["p"].T), axis=1)[:, :k]
    overlap = [len(set(a) & set(b)) / k for a, b in zip(ref_top, got_top, strict=True)]
    return {
        "cos_min": float(cos.min()),
        "cos_mean": float(cos.mean()),
        "top10_mean": float(np.mean(overlap)),
        "top10_min": float(np.min(overlap)),
        "top1": float(np.mean(ref_top[:, 0] == got_top[:, 0])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="only the main variants")
    args = parser.parse_args()

    import logging
    import warnings

    import torch

    from rag import embed

    warnings.filterwarnings("ignore")  # torch.ao's deprecation notices, quantizer hints
    logging.getLogger().setLevel(logging.ERROR)

    folder = embed.model_dir()
    texts, queries = passages(args.n), questions()
    words = [len(t.split()) for t in texts]
    print(
        f"{len(texts)} passages ({min(words)}–{max(words)} words, mean {np.mean(words):.0f}), "
        f"{len(queries)} queries; cores {embed.cpu_threads()}, torch {torch.__version__} "
        f"threads {torch.get_num_threads()}"
    )

    st = embed.TorchEncoder(folder)
    results: dict[str, dict] = {}

    def run(name: str, encode: Callable[[list[str]], np.ndarray]) -> None:
        results[name] = measure(encode, texts, queries)
        r = results[name]
        line = f"{name:<28} {r['rate']:7.1f} texts/s  query p50 {r['p50_ms']:6.1f} ms"
        if "reference" in results and name != "reference":
            c = compare(results["reference"], r)
            r.update(c)
            line += (
                f"  cos min {c['cos_min']:.5f} mean {c['cos_mean']:.5f}  top10 overlap mean "
                f"{c['top10_mean']:.3f} min {c['top10_min']:.1f}  top1 {c['top1']:.3f}"
            )
        print(line, flush=True)

    run("reference", lambda x: st.encode(x, 64))

    # (a) torch float: batch sizes, threads, and what sorting by length gives.
    sizes = (32, 64) if args.quick else (16, 32, 64, 128)
    for bs in sizes:
        run(f"torch float bs{bs}", lambda x, bs=bs: st.encode(x, bs))
    if not args.quick:
        torch.set_num_threads(1)
        run("torch float bs64 1 thread", lambda x: st.encode(x, 64))
        torch.set_num_threads(embed.cpu_threads())
        run(
            "torch float bs64 unsorted",
            lambda x: np.concatenate([st.encode(x[i : i + 64], 64) for i in range(0, len(x), 64)]),
        )

    # (b) torch dynamic int8 on the Linear layers of the same model.
    q8 = copy.deepcopy(st.model)
    q8[0].model = torch.ao.quantization.quantize_dynamic(q8[0].model, {torch.nn.Linear}, dtype=torch.qint8)
    run(
        "torch int8 bs32",
        lambda x: q8.encode(
            x, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ),
    )

    # (c) ONNX Runtime: rag.embed's cached export, fused and int8 variants made from it.
    onnx_enc = embed.load_onnx_encoder(folder)
    onnx_sizes = (16, 32) if args.quick else (8, 16, 32, 64, 128)
    for bs in onnx_sizes:
        run(f"onnx fp32 bs{bs}", lambda x, bs=bs: onnx_enc.encode(x, bs))
    if not args.quick:
        one = embed.OnnxEncoder(embed.export_dir(folder) / "model.onnx", folder, threads=1)
        run("onnx fp32 bs32 1 thread", lambda x: one.encode(x, 32))
    with tempfile.TemporaryDirectory() as tmp:
        source = embed.export_dir(folder) / "model.onnx"
        try:
            from onnxruntime.transformers.optimizer import optimize_model

            fused = optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384, opt_level=1)
            fused.save_model_to_file(str(Path(tmp) / "fused.onnx"))
            fused_enc = embed.OnnxEncoder(Path(tmp) / "fused.onnx", folder)
            run("onnx fused fp32 bs32", lambda x: fused_enc.encode(x, 32))
        except Exception as exc:  # the optimizer's fusions depend on the exported graph's shape
            print(f"onnx fused: skipped ({type(exc).__name__}: {exc})")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(source), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8)
        int8_enc = embed.OnnxEncoder(Path(tmp) / "int8.onnx", folder)
        run("onnx int8 bs32", lambda x: int8_enc.encode(x, 32))

    # The production path, end to end (list conversion included).
    production = embed.MiniLMEmbedding()
    run(
        f"MiniLMEmbedding ({production.runtime}, bs{production.embed_batch_size})",
        lambda x: np.asarray(production.embed(x), dtype=np.float32),
    )


if __name__ == "__main__":
    main()
