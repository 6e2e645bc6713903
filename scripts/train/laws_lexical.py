#!/usr/bin/env python3
"""Train the lexical channel of the policy-area model (`models/norsk-topic`).

A linear SVM on TF-IDF of words and word pairs (scikit-learn's `TfidfVectorizer` and `LinearSVC`), trained on the
`split=train` passages of laws_chunks.jsonl.xz, each passage twice: with its title in front (`"{title}. {text}"`, as
`norsk classify --title-field` joins them) and without, so that it serves records with and without a title. The
SVM's scores, times a scale, are added to the BERT model's logits by `norsk classify`
(`norsk_lexical::LexicalChannel`).

The scale is chosen on dev, like an epoch: given the BERT model's own dev outputs (`norsk classify --no-lexical` with
and without `--title-field title`, JSONL with all labels' scores), the scale with the best mean macro-F1 over both
is taken; without them, `--scale` is used as given. Writes into the model folder:

  norsk_lexical.json          labels, vocabulary (feature id = position), feature settings, how it was trained
  norsk_lexical.safetensors   idf (f32), weight (f16, terms x labels, scale folded in), bias (f32)

and `--fixture`: texts with the logits the stored channel gives them, computed from scikit-learn's own features, for
`tests/lexical_parity.rs`.

    python scripts/train/laws_lexical.py --out models/norsk-topic \\
        --dev-scores-titled dev_titled.jsonl --dev-scores-untitled dev_untitled.jsonl

Needs scikit-learn, numpy and safetensors (measured with scikit-learn 1.9.1, numpy 2.4.6, safetensors 0.8.0 from PyPI).
"""

import argparse
import json
import lzma
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.svm import LinearSVC

SCALES = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64)

# Texts for the parity fixture: what the Rust tokenizer must split exactly as Python's `re` does.
FIXTURE_TEXTS = [
    "Lov om tollavgift på varer som innføres til Norge.",
    "FORSKRIFT OM BARNEHAGER: foreldrebetaling og opptak i kommunale barnehager.",
    "Forsvarsdepartementet kan gi forskrift om verneplikt og sivilforsvar.",
    "Sykehus og helseforetak skal ha pasientjournal.\r\nHelsepersonell har taushetsplikt.",
    "Tromso\u0308 kommune, NAV-kontoret og Statens vegvesen 🚗 møtes i 2024.",
    "Skatt\u00a0på formue og inntekt; merverdiavgift_sats 25 %.",
    "İSTANBUL og ÅLESUND havn: fiskeri, oppdrett og sjømat.",
    "a b c",
    "",
]


def joined(row, with_title):
    return f"{row['title']}. {row['text']}" if with_title and row["title"].strip() else row["text"]


def read_rows(path):
    with lzma.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def model_log_scores(path, labels, n):
    """The BERT model's dev log-probabilities (labels in `labels` order), from `norsk classify` JSONL."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            scores = {s["label"]: s["score"] for s in json.loads(line)["labels"]}
            rows.append([np.log(max(scores[label], 1e-12)) for label in labels])
    if len(rows) != n:
        raise SystemExit(f"{path}: {len(rows)} records, dev has {n}")
    return np.array(rows)


def scores(y, pred):
    return accuracy_score(y, pred), f1_score(y, pred, average="macro")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/norwegian_laws_ministry/laws_chunks.jsonl.xz")
    ap.add_argument("--out", type=Path, default=Path("models/norsk-topic"), help="the model folder (its config.json gives the label order)")
    ap.add_argument("--max-features", type=int, default=100_000)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--c", type=float, default=1.0, help="the SVM's C")
    ap.add_argument("--class-weight", choices=["none", "balanced"], default="balanced")
    ap.add_argument("--dev-scores-titled", type=Path, help="`norsk classify --no-lexical --title-field title` on dev")
    ap.add_argument("--dev-scores-untitled", type=Path, help="`norsk classify --no-lexical` on dev")
    ap.add_argument("--scale", type=float, default=4.0, help="used when no dev scores are given")
    ap.add_argument("--fixture", type=Path, default=Path("tests/fixtures/lexical_reference.json"))
    args = ap.parse_args()

    config = json.loads((args.out / "config.json").read_text(encoding="utf-8"))
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    rows = read_rows(args.data)
    train = [r for r in rows if r["split"] == "train"]
    dev = [r for r in rows if r["split"] == "dev"]
    started = time.time()
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, min_df=args.min_df, ngram_range=(1, 2), max_features=args.max_features, dtype=np.float64
    )
    x = vectorizer.fit_transform([joined(r, True) for r in train] + [joined(r, False) for r in train])
    y = [r["label"] for r in train] * 2
    svm = LinearSVC(C=args.c, class_weight=None if args.class_weight == "none" else "balanced")
    svm.fit(x, y)
    order = [list(svm.classes_).index(label) for label in labels]
    print(f"trained on {len(train)} passages x 2 in {time.time() - started:.0f} s, {x.shape[1]} terms", flush=True)

    y_dev = np.array([r["label"] for r in dev])
    label_array = np.array(labels)
    views = {}
    for name, with_title in (("titled", True), ("untitled", False)):
        lexical = svm.decision_function(vectorizer.transform([joined(r, with_title) for r in dev]))[:, order]
        views[name] = lexical
        acc, f1 = scores(y_dev, label_array[lexical.argmax(1)])
        print(f"dev {name}: lexical channel alone accuracy {acc:.4f} macro-F1 {f1:.4f}")

    scale, choice = args.scale, "given (--scale)"
    if args.dev_scores_titled and args.dev_scores_untitled:
        model = {
            "titled": model_log_scores(args.dev_scores_titled, labels, len(dev)),
            "untitled": model_log_scores(args.dev_scores_untitled, labels, len(dev)),
        }
        for name in model:
            acc, f1 = scores(y_dev, label_array[model[name].argmax(1)])
            print(f"dev {name}: model alone accuracy {acc:.4f} macro-F1 {f1:.4f}")
        best = None
        for s in SCALES:
            row = {name: scores(y_dev, label_array[(model[name] + s * views[name]).argmax(1)]) for name in model}
            mean_f1 = (row["titled"][1] + row["untitled"][1]) / 2
            print(f"scale {s:>4}: titled {row['titled'][0]:.4f} / {row['titled'][1]:.4f}, "
                  f"untitled {row['untitled'][0]:.4f} / {row['untitled'][1]:.4f}")
            if best is None or mean_f1 > best[0]:
                best = (mean_f1, s)
        scale, choice = best[1], "the best mean dev macro-F1 with and without titles"
    print(f"scale {scale} ({choice})")

    vocabulary = [None] * len(vectorizer.vocabulary_)
    for term, i in vectorizer.vocabulary_.items():
        vocabulary[i] = term
    weight = (svm.coef_[order].T * scale).astype(np.float16)
    bias = (svm.intercept_[order] * scale).astype(np.float32)
    (args.out / "norsk_lexical.json").write_text(
        json.dumps(
            {
                "kind": "tfidf-linear",
                "labels": labels,
                "max_ngram": 2,
                "sublinear_tf": True,
                "trained": {
                    "script": "scripts/train/laws_lexical.py",
                    "data": "laws_chunks.jsonl.xz split=train, each passage with and without its title",
                    "features": f"TfidfVectorizer(sublinear_tf=True, min_df={args.min_df}, ngram_range=(1, 2), "
                    f"max_features={args.max_features})",
                    "classifier": f"LinearSVC(C={args.c}, class_weight={args.class_weight})",
                    "scale": scale,
                    "scale_chosen_by": choice,
                },
                "vocabulary": vocabulary,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    save_file(
        {"idf": vectorizer.idf_.astype(np.float32), "weight": np.ascontiguousarray(weight), "bias": bias},
        str(args.out / "norsk_lexical.safetensors"),
    )
    features = vectorizer.transform(FIXTURE_TEXTS)
    logits = features @ weight.astype(np.float64) + bias
    args.fixture.write_text(
        json.dumps(
            {
                "model": str(args.out),
                "made_by": "scripts/train/laws_lexical.py: scikit-learn's TF-IDF features times the stored weights",
                "cases": [{"text": t, "logits": [float(v) for v in row]} for t, row in zip(FIXTURE_TEXTS, logits)],
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}/norsk_lexical.{{json,safetensors}} and {args.fixture}")


if __name__ == "__main__":
    main()
