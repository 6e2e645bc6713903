#!/usr/bin/env python3
"""Make tests/fixtures/seqeval_reference.json: entity-level NER scores computed by Python's seqeval.

Purpose
    `norsk_spans::evaluate` reproduces seqeval (1.2.2) exactly, in two modes:
      default  seqeval's default, conlleval-compatible path (`get_entities`: lenient about prefixes)
      strict   `mode='strict', scheme=IOB2` (`seqeval.scheme`: only well-formed B-X I-X* chunks)
    This script records seqeval's answers for the Rust test crates/norsk-spans/tests/seqeval_reference.rs.

What it records
    sentences   gold tags of the first 300 sentences of NorNE nob dev (bio/nob_dev.tsv.gz, IOB2) and
                predictions made by corrupting them deterministically (fixed seed): type swaps, boundary
                shifts, B- turned into I- (IOB1 style) or dropped (leaving a bare I- run), type changes
                inside an entity, missed entities, spurious bare I- chunks and spurious B- entities (some of
                type MISC, which has no gold support here). Only B-, I- and O: strict mode rejects E-/S-,
                and the two modes disagree on exactly these corruptions.
    default, strict
                for each mode: micro precision/recall/f1 from precision_score/recall_score/f1_score
                (average='micro') and every row of classification_report(output_dict=True): the entity
                types plus 'micro avg', 'macro avg', 'weighted avg'.
    edge        default mode only, random sequences over an alphabet of odd tags (E-/S-, bare B/I/E/S,
                tags without prefix such as PER, X, '.', B-GPE-LOC, I-) that seqeval's default path
                accepts (strict mode raises on them): the same scores, so the Rust code is held to
                seqeval's quirks (the chunker's state crosses sentence boundaries, for one).
    edge_iob2   random sequences over odd but IOB2-valid tags (bare B/I, OTHER, IPER, B-PER-, I--PER):
                scores in both modes.
    get_entities
                single sequences over both alphabets with seqeval's chunks: `get_entities(tags)`
                ([type, start, inclusive end]) and `Tokens(tags, IOB2).entities` ([type, start,
                exclusive end], null when seqeval raises).

Only tags are stored, no tokens. All numbers are Python floats written by repr (round-trip exact).

Usage (from the repo root; Python 3.11 with seqeval 1.2.2 and numpy)
    python3 scripts/make_seqeval_fixture.py [--data /work/shared/data/norne/bio/nob_dev.tsv.gz] \\
        [--out tests/fixtures/seqeval_reference.json]
"""

import argparse
import gzip
import json
import random
import warnings
from importlib.metadata import version

from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Tokens

SEED = 20240611
N_SENTENCES = 300
TYPES = ["PER", "ORG", "LOC", "GPE_LOC", "GPE_ORG", "PROD", "EVT", "DRV", "MISC"]

# Odd tags seqeval's default path accepts (strict IOB2 raises on most of them).
ODD_TAGS = [
    "O", "O", "O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC",
    "B", "I", "E", "S", "X", ".", "PER", "I-", "B-GPE-LOC", "I-GPE-LOC", "Z-PER", ".-PER",
]
# Odd tags that are still valid for strict IOB2 (first character B, I or O).
IOB2_TAGS = [
    "O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B", "I", "OTHER", "IPER", "BLOC",
    "B-PER-", "I--PER", "O-PER",
]


def read_tsv(path, limit):
    """Gold tag sequences of the first `limit` sentences of a TOKEN<TAB>TAG file."""
    opener = gzip.open if path.endswith(".gz") else open
    sentences, current = [], []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                    if len(sentences) == limit:
                        break
                continue
            if line.startswith("#") and "\t" not in line:
                continue
            _token, tag = line.split("\t")
            current.append(tag)
    if current and len(sentences) < limit:
        sentences.append(current)
    return sentences


def spans(tags):
    """IOB2 entities of well-formed gold tags: (type, start, exclusive end)."""
    return [(t, s, e + 1) for t, s, e in get_entities(tags)]


def corrupt(gold, rng):
    pred = list(gold)
    n = len(pred)

    def free(i):
        return 0 <= i < n and pred[i] == "O"

    for kind, start, end in spans(gold):
        if any(pred[i] != gold[i] for i in range(start, end)):
            continue  # touched by an earlier corruption
        roll = rng.random()
        if roll < 0.45:
            continue  # kept
        elif roll < 0.55:  # type swap
            other = rng.choice([t for t in TYPES if t != kind])
            for i in range(start, end):
                pred[i] = pred[i][:2] + other
        elif roll < 0.65:  # boundary shift
            how = rng.choice(["extend_right", "extend_left", "shrink_right", "shrink_left"])
            if how == "extend_right" and free(end):
                pred[end] = "I-" + kind
            elif how == "extend_left" and free(start - 1):
                pred[start - 1] = "B-" + kind
                pred[start] = "I-" + kind
            elif how == "shrink_right" and end - start > 1:
                pred[end - 1] = "O"
            elif how == "shrink_left" and end - start > 1:
                pred[start] = "O"
                pred[start + 1] = "B-" + kind
        elif roll < 0.75:  # B- turned into I- (IOB1 style)
            pred[start] = "I-" + kind
        elif roll < 0.80:  # B- dropped, a bare I- run is left (or nothing)
            pred[start] = "O"
        elif roll < 0.87 and end - start > 1:  # type change inside the entity
            other = rng.choice([t for t in TYPES if t != kind])
            for i in range(rng.randrange(start + 1, end), end):
                pred[i] = "I-" + other
        elif roll < 0.95:  # missed
            for i in range(start, end):
                pred[i] = "O"
    # Spurious chunks on outside tokens: bare I- runs and B- entities.
    for i in range(n):
        if gold[i] == "O" and pred[i] == "O" and rng.random() < 0.03:
            kind = rng.choice(TYPES)
            if rng.random() < 0.5:
                pred[i] = "I-" + kind
            else:
                pred[i] = "B-" + kind
            if free(i + 1) and gold[i + 1] == "O" and rng.random() < 0.4:
                pred[i + 1] = "I-" + kind
    return pred


def as_float(x):
    return float(x)


def scores(gold, pred, strict):
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    report = classification_report(gold, pred, output_dict=True, **kwargs)
    rows = {
        name: {
            "precision": as_float(row["precision"]),
            "recall": as_float(row["recall"]),
            "f1": as_float(row["f1-score"]),
            "support": int(row["support"]),
        }
        for name, row in report.items()
    }
    return {
        "precision": as_float(precision_score(gold, pred, **kwargs)),
        "recall": as_float(recall_score(gold, pred, **kwargs)),
        "f1": as_float(f1_score(gold, pred, **kwargs)),
        "micro_avg": rows.pop("micro avg"),
        "macro_avg": rows.pop("macro avg"),
        "weighted_avg": rows.pop("weighted avg"),
        "per_type": rows,
    }


def random_corpus(rng, alphabet, count, max_len):
    out = []
    for _ in range(count):
        n = rng.randrange(0, max_len + 1)
        gold = [rng.choice(alphabet) for _ in range(n)]
        pred = [t if rng.random() < 0.6 else rng.choice(alphabet) for t in gold]
        out.append({"gold": gold, "pred": pred})
    return out


def strict_chunks(tags):
    try:
        return [[e.tag, e.start, e.end] for e in Tokens(tags, IOB2).entities]
    except (ValueError, KeyError):
        return None


def dump(fixture, path):
    """JSON with one sentence (or one sequence) per line: diffable and small."""
    lines = ["{"]
    items = list(fixture.items())
    for k, (key, value) in enumerate(items):
        comma = "," if k + 1 < len(items) else ""
        lines.append(f"  {json.dumps(key)}: {dump_value(value, 1)}{comma}")
    lines.append("}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def dump_value(value, depth):
    pad = "  " * depth
    if isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values()):
        inner = [
            f"{pad}  {json.dumps(k)}: {dump_value(v, depth + 1)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(inner) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        inner = [f"{pad}  {json.dumps(v, ensure_ascii=False)}" for v in value]
        return "[\n" + ",\n".join(inner) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/work/shared/data/norne/bio/nob_dev.tsv.gz")
    parser.add_argument("--out", default="tests/fixtures/seqeval_reference.json")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # seqeval warns on zero divisions and odd tags

    rng = random.Random(SEED)
    golds = read_tsv(args.data, N_SENTENCES)
    assert len(golds) == N_SENTENCES, len(golds)
    sentences = [{"gold": g, "pred": corrupt(g, rng)} for g in golds]
    gold = [s["gold"] for s in sentences]
    pred = [s["pred"] for s in sentences]

    edge = random_corpus(rng, ODD_TAGS, 120, 10)
    edge_iob2 = random_corpus(rng, IOB2_TAGS, 120, 10)
    sequences = [rng.choice(edge + edge_iob2)["gold"] for _ in range(150)]
    sequences += [[rng.choice(ODD_TAGS) for _ in range(rng.randrange(0, 12))] for _ in range(100)]

    fixture = {
        "source": "NorNE nob dev (bio/nob_dev.tsv.gz), first %d sentences; predictions are "
        "corrupted gold tags (scripts/make_seqeval_fixture.py, seed %d)" % (N_SENTENCES, SEED),
        "seqeval_version": version("seqeval"),
        "sentences": sentences,
        "default": scores(gold, pred, strict=False),
        "strict": scores(gold, pred, strict=True),
        "edge": {
            "sentences": edge,
            "default": scores([s["gold"] for s in edge], [s["pred"] for s in edge], strict=False),
        },
        "edge_iob2": {
            "sentences": edge_iob2,
            "default": scores(
                [s["gold"] for s in edge_iob2], [s["pred"] for s in edge_iob2], strict=False
            ),
            "strict": scores(
                [s["gold"] for s in edge_iob2], [s["pred"] for s in edge_iob2], strict=True
            ),
        },
        "get_entities": [
            {
                "tags": tags,
                "default": [list(c) for c in get_entities(tags)],
                "strict": strict_chunks(tags),
            }
            for tags in sequences
        ],
    }
    d, s = fixture["default"], fixture["strict"]
    assert (d["f1"], d["precision"]) != (s["f1"], s["precision"]), "the modes should differ"
    dump(fixture, args.out)
    print(
        f"{args.out}: {N_SENTENCES} sentences; default P/R/F1 "
        f"{d['precision']:.4f}/{d['recall']:.4f}/{d['f1']:.4f}, strict "
        f"{s['precision']:.4f}/{s['recall']:.4f}/{s['f1']:.4f}"
    )


if __name__ == "__main__":
    main()
