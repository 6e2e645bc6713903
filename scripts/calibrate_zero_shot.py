#!/usr/bin/env python3
"""Fits the zero-shot calibration of an embedding model (norsk_zero_shot.json).

`norsk classify --labels ...` without an NLI model compares each article's
embedding with each topic's by cosine. Cosines of e5 models lie in a narrow
band, so probabilities need a temperature: this script fits it, and the
multi-label threshold, on a stratified sample of the Norwegian laws data's
**train** split (never dev), with the 16 ministries of `@departementer` as
topics, using norsk's own embeddings (`norsk embed`), so what is fitted is
what norsk computes.

    python3 scripts/calibrate_zero_shot.py --write      # writes models/norsk-e5-embed/norsk_zero_shot.json
    python3 scripts/calibrate_zero_shot.py --cache DIR --dev-filter chunk=0   # zero-shot scores on dev

Fitted: softmax temperature T minimising the negative log-likelihood of the
gold ministry; multi-label threshold c and temperature t minimising the binary
cross-entropy of sigmoid((cos - c) / t) over every (passage, ministry) pair.
Both by grid search (no SciPy needed). Only the standard library and NumPy.
"""

import argparse
import collections
import json
import lzma
import math
import random
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/norwegian_laws_ministry/laws_chunks.jsonl.xz"
TOPICS = ROOT / "crates/norsk/src/topic_sets/departementer.tsv"


def sample_train(path, per_label, seed):
    """A stratified sample of train passages, `per_label` per ministry."""
    rows = [json.loads(line) for line in lzma.open(path, "rt", encoding="utf-8")]
    by_label = collections.defaultdict(list)
    for row in rows:
        if row["split"] == "train":
            by_label[row["label"]].append(row)
    rng = random.Random(seed)
    sample = []
    for label in sorted(by_label):
        sample += rng.sample(by_label[label], min(per_label, len(by_label[label])))
    return sample


# norsk's default hypothesis template, into which a topic's description goes
# with its first letter lowercased (crates/norsk/src/similarity.rs).
TEMPLATE = "Denne artikkelen handler om {}."


def topic_text(description):
    if len(description) > 1 and description[1].islower():
        description = description[0].lower() + description[1:]
    return TEMPLATE.replace("{}", description)


def read_topics(path):
    topics = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, description = line.split("\t")
            topics.append((label.strip(), topic_text(description.strip())))
    return topics


def embed(norsk, model, records, kind, work, name):
    """norsk's embeddings of `records` ({"id", "text"}), cached in `work`."""
    out = work / f"{name}.npy"
    if not out.exists():
        source = work / f"{name}.jsonl"
        with open(source, "w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        partial = work / f"{name}.partial.npy"
        subprocess.run(
            [norsk, "embed", "--model", str(model), "--input", str(source),
             "--output", str(partial), "--kind", kind],
            check=True,
        )
        partial.rename(out)
    return np.load(out)


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def fit_temperature(cos, gold):
    grid = np.exp(np.linspace(math.log(1e-3), math.log(1.0), 400))
    nll = [-log_softmax(cos / t)[np.arange(len(gold)), gold].mean() for t in grid]
    best = int(np.argmin(nll))
    return float(grid[best]), float(nll[best])


def fit_threshold(cos, gold):
    target = np.zeros_like(cos)
    target[np.arange(len(gold)), gold] = 1.0
    best = (math.inf, None, None)
    for c in np.linspace(cos.min(), cos.max(), 120):
        for t in np.exp(np.linspace(math.log(1e-3), math.log(0.5), 120)):
            z = (cos - c) / t
            # Binary cross-entropy, computed stably.
            bce = (np.logaddexp(0.0, z) - target * z).mean()
            if bce < best[0]:
                best = (float(bce), float(c), float(t))
    return best


def macro_f1(gold, pred, classes):
    scores = []
    for k in range(classes):
        tp = int(((pred == k) & (gold == k)).sum())
        wrong = int(((pred == k) != (gold == k)).sum())
        scores.append(2 * tp / max(1, 2 * tp + wrong))
    return float(np.mean(scores))


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_norsk_cache(cache_dir, dim):
    """Vectors by key from norsk's embedding cache (`train classify --head-only
    --cache-dir`): records of a little-endian u64 key and `dim` f32s."""
    vectors = {}
    record = np.dtype([("key", "<u8"), ("vector", "<f4", (dim,))])
    for path in Path(cache_dir).glob(f"*-{dim}.f32"):
        raw = np.fromfile(path, dtype=np.uint8)
        usable = len(raw) - len(raw) % record.itemsize
        for key, vector in raw[:usable].view(record):
            vectors[int(key)] = vector
    return vectors


def score_dev(args, queries, index):
    """Zero-shot accuracy and macro-F1 on the dev passages that a head
    training (`norsk train classify --head-only --prefix-field title`)
    embedded into `--cache`: the same vectors `norsk classify --labels
    --title-field title` computes (every window pooled, the title in front
    of each)."""
    rows = [json.loads(line) for line in lzma.open(args.data, "rt", encoding="utf-8")]
    dev = [r for r in rows if r["split"] == "dev" and all(str(r.get(k)) == v for k, v in args.dev_filter)]
    cached = read_norsk_cache(args.cache, queries.shape[1])
    keys = [fnv1a(f"{r['title']}\x01{r['text']}".encode("utf-8")) for r in dev]
    found = [k in cached for k in keys]
    if not all(found):
        raise SystemExit(f"{found.count(False)} of {len(dev)} dev passages are not in {args.cache}")
    passages = np.stack([cached[k] for k in keys])
    gold = np.array([index[r["label"]] for r in dev])
    pred = (passages @ queries.T).argmax(axis=1)
    print(f"dev: {len(dev)} passages, zero-shot accuracy {float((pred == gold).mean()):.4f}, "
          f"macro-F1 {macro_f1(gold, pred, len(index)):.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--norsk", default=str(ROOT / "target/release/norsk"))
    parser.add_argument("--model", default=str(ROOT / "models/norsk-e5-embed"))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--per-label", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--work", default=str(ROOT / "target/zero-shot"))
    parser.add_argument("--write", action="store_true", help="write the model's norsk_zero_shot.json")
    parser.add_argument("--cache", help="score zero-shot topics on the dev passages in this norsk embedding cache")
    parser.add_argument("--dev-filter", action="append", default=[], type=lambda s: tuple(s.split("=", 1)),
                        help="FIELD=VALUE: only these dev passages (as train classify --dev-filter)")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    sample = sample_train(args.data, args.per_label, args.seed)
    topics = read_topics(TOPICS)
    index = {label: i for i, (label, _) in enumerate(topics)}
    passages = embed(
        args.norsk, args.model,
        [{"id": r["id"], "text": f"{r['title']}. {r['text']}"} for r in sample],
        "passage", work, f"train{args.per_label}-seed{args.seed}",
    )
    queries = embed(
        args.norsk, args.model,
        [{"id": label, "text": text} for label, text in topics],
        "query", work, "departementer",
    )
    gold = np.array([index[r["label"]] for r in sample])
    cos = passages @ queries.T

    temperature, nll = fit_temperature(cos, gold)
    bce, threshold, multi_t = fit_threshold(cos, gold)
    accuracy = float((cos.argmax(axis=1) == gold).mean())
    print(f"{len(sample)} train passages, {len(topics)} topics: accuracy {accuracy:.4f} (train sample)")
    print(f"softmax temperature {temperature:.5f} (NLL {nll:.4f}; at 1.0: "
          f"{-log_softmax(cos)[np.arange(len(gold)), gold].mean():.4f})")
    print(f"multi-label threshold {threshold:.4f}, temperature {multi_t:.5f} (BCE {bce:.4f})")
    calibration = {
        "temperature": round(temperature, 6),
        "threshold": round(threshold, 6),
        "multi_label_temperature": round(multi_t, 6),
        "fitted_on": (
            f"norwegian_laws_ministry train split, {args.per_label} passages per ministry "
            f"(seed {args.seed}), topics @departementer; scripts/calibrate_zero_shot.py"
        ),
    }
    print(json.dumps(calibration, ensure_ascii=False, indent=2))
    if args.cache:
        score_dev(args, queries, index)
    if args.write:
        path = Path(args.model) / "norsk_zero_shot.json"
        path.write_text(json.dumps(calibration, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
