#!/usr/bin/env python3
"""Whole NER pipeline, texts in, entities out: transformers' token-classification pipeline against
`norsk bench --corpus`, on the same texts, the same model and the same thread count, alternating.

    .work/ref-venv/bin/python scripts/bench_ner_pipeline.py --model models/norsk-bert-ner --texts 400 \\
        --batch-size 8 --threads 2 --rounds 3 --norsk target/release/norsk --precision f32,bf16,int8

Texts: the first --texts sentences of Talk of Norway (Bokmål) from ../shared/data (one text per line), or
--corpus FILE. transformers runs pipeline("token-classification", aggregation_strategy="first") in PyTorch
fp32 with torch.set_num_threads(T), batch_size B, after one untimed warm-up pass over 32 texts; norsk runs
`norsk bench --corpus` (sentence split, tokenize, model, decode) with --batch-sizes B --threads T and reports
texts/s per round. Each round runs every engine once (order reversed every other round); the best round of
each is printed with its ratio to transformers. Numbers from a shared machine are noisy: compare within a run.
"""

import argparse
import gzip
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SENTENCES = ROOT.parent / "shared" / "data" / "talk_of_norway_sentences" / "sentences_talk_of_norway_cleaned_10k_nob.txt.gz"

TRANSFORMERS_WORKER = """
import json, sys, time
import torch
from transformers import pipeline
model, corpus, batch, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.set_num_interop_threads(1)
texts = [l for l in open(corpus, encoding="utf-8").read().splitlines() if l.strip()]
ner = pipeline("token-classification", model=model, aggregation_strategy="first", device=-1)
ner(texts[:32], batch_size=batch)
start = time.perf_counter()
out = ner(texts, batch_size=batch)
seconds = time.perf_counter() - start
print(json.dumps({"texts_per_s": len(texts) / seconds, "entities": sum(len(o) for o in out)}))
"""


def read_texts(args):
    if args.corpus:
        lines = pathlib.Path(args.corpus).read_text(encoding="utf-8").splitlines()
    else:
        with gzip.open(SENTENCES, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    return [l for l in lines if l.strip()][: args.texts]


def run_transformers(args, corpus):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    out = subprocess.run(
        [sys.executable, "-c", TRANSFORMERS_WORKER, args.model, corpus, str(args.batch_size), str(args.threads)],
        check=True, capture_output=True, text=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["texts_per_s"]


def run_norsk(args, corpus, precision):
    out = subprocess.run(
        [args.norsk, "bench", "--model", args.model, "--task", "ner", "--corpus", corpus,
         "--batch-sizes", str(args.batch_size), "--threads", str(args.threads), "--warmup", "4",
         "--iters", "1", "--precision", precision, "--format", "json"],
        check=True, capture_output=True, text=True,
    )
    records = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if not records:
        records = json.loads(out.stdout)
    return records[0]["texts_per_s"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(ROOT / "models" / "norsk-bert-ner"))
    p.add_argument("--corpus", help="one text per line (default: Talk of Norway sentences)")
    p.add_argument("--texts", type=int, default=400)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--norsk", default=str(ROOT / "target" / "release" / "norsk"))
    p.add_argument("--precision", default="f32,int8", help="norsk precisions, comma-separated")
    args = p.parse_args()

    texts = read_texts(args)
    engines = ["transformers"] + [f"norsk/{p}" for p in args.precision.split(",")]
    best = {e: 0.0 for e in engines}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "texts.txt")
        pathlib.Path(corpus).write_text("\n".join(texts) + "\n", encoding="utf-8")
        for r in range(args.rounds):
            for engine in engines if r % 2 == 0 else list(reversed(engines)):
                if engine == "transformers":
                    value = run_transformers(args, corpus)
                else:
                    value = run_norsk(args, corpus, engine.split("/")[1])
                print(f"round {r + 1} {engine}: {value:.1f} texts/s", file=sys.stderr)
                best[engine] = max(best[engine], value)
    base = best["transformers"]
    print(f"{len(texts)} texts, batch {args.batch_size}, {args.threads} threads, best of {args.rounds} rounds")
    print("| engine | texts/s | vs transformers |")
    print("|---|---:|---:|")
    for engine in engines:
        print(f"| {engine} | {best[engine]:,.1f} | {best[engine] / base:.2f}× |")


if __name__ == "__main__":
    main()
