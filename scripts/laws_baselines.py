#!/usr/bin/env python3
"""Word-count baselines for the laws policy-area task (issue #5), on the dev split.

Trains on `split=train` of laws_chunks.jsonl.xz and scores `split=dev` (the test split is withheld): a multinomial
naive Bayes on word counts (the issue's reference, "about 0.79") and a linear SVM on TF-IDF of words and word pairs,
each on the title alone, on the title and the first 90 words (about what a 128-token window holds) and on the title
and the whole passage. Prints accuracy and macro-F1 per row.

    python3 scripts/laws_baselines.py [--data ../shared/data/norwegian_laws_ministry/laws_chunks.jsonl.xz]
"""

import argparse
import json
import lzma

from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

VIEWS = {
    "title": lambda r: r["title"],
    "title + first 90 words": lambda r: r["title"] + ". " + " ".join(r["text"].split()[:90]),
    "title + passage": lambda r: r["title"] + ". " + r["text"],
}


def models():
    yield "naive Bayes, word counts", CountVectorizer(min_df=2), MultinomialNB(alpha=0.1)
    yield (
        "linear SVM, TF-IDF words + pairs",
        TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=300_000),
        LinearSVC(C=1.0),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/norwegian_laws_ministry/laws_chunks.jsonl.xz")
    args = ap.parse_args()
    with lzma.open(args.data, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    train = [r for r in rows if r["split"] == "train"]
    dev = [r for r in rows if r["split"] == "dev"]
    y_train = [r["label"] for r in train]
    y_dev = [r["label"] for r in dev]
    print(f"train {len(train)} passages, dev {len(dev)}")
    print(f"{'model':<34} {'input':<24} {'accuracy':>8} {'macro-F1':>8}")
    for name, vectorizer, model in models():
        for view, text in VIEWS.items():
            x_train = vectorizer.fit_transform([text(r) for r in train])
            model.fit(x_train, y_train)
            pred = model.predict(vectorizer.transform([text(r) for r in dev]))
            acc = accuracy_score(y_dev, pred)
            f1 = f1_score(y_dev, pred, average="macro")
            print(f"{name:<34} {view:<24} {acc:>8.3f} {f1:>8.3f}", flush=True)


if __name__ == "__main__":
    main()
