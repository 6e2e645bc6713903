#!/usr/bin/env python3
"""Build the MLM pretraining corpus from TRAIN splits only (never dev/test).

Output: .work/corpus/train.txt  -- one sample per line (sentence or ~paragraph chunk), shuffled (seed 13).
        .work/corpus/stats.json -- line/word counts per source.
Sources (read-only, /work/shared/data):
  * NoReC train reviews (norec_train.jsonl.xz): paragraphs (blank-line separated), sentences joined,
    chunked to <= ~120 words.
  * Talk of Norway sentences (nob + nno 10k sentence files, + the 6k-row nob/nno CSV).
  * NPK Bokmål/Nynorsk news-agency sentences: nb_nn_train.tsv.gz and nb_nn_extra_older_commit.tsv.gz
    (the 'extra' file is disjoint from the NorBench dev/test splits; both sides used).
  * NorNE train sentences (bio/{nob,nno}_train.tsv.gz), tokens joined by spaces, repeated 2x (in-domain for NER).
Usage: python scripts/train/corpus.py [--out .work/corpus] [--limit N  (tiny test: N reviews)]
"""
import argparse, csv, gzip, io, json, lzma, os, random, re

D = "/work/shared/data"


def norec(limit=None, max_words=120):
    with lzma.open(f"{D}/norec/norec_train.jsonl.xz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit and i >= limit:
                break
            rec = json.loads(line)
            assert rec["split"] == "train"
            for para in re.split(r"\n\s*\n", rec["text"]):
                sents = [s.strip() for s in para.split("\n") if s.strip()]
                chunk, n = [], 0
                for s in sents:
                    w = len(s.split())
                    if chunk and n + w > max_words:
                        yield " ".join(chunk)
                        chunk, n = [], 0
                    chunk.append(s)
                    n += w
                if chunk:
                    yield " ".join(chunk)


def talk_of_norway():
    for lang in ("nob", "nno"):
        with gzip.open(f"{D}/talk_of_norway_sentences/sentences_talk_of_norway_cleaned_10k_{lang}.txt.gz", "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield line.strip()
    with gzip.open(f"{D}/talk_of_norway_sentences/parliament_speeches_1998_2016_nob_nyn.csv.gz", "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["text"].strip():
                yield row["text"].strip()


def npk():
    for name in ("nb_nn_train.tsv.gz", "nb_nn_extra_older_commit.tsv.gz"):
        with gzip.open(f"{D}/npk_nb_nn_parallel/{name}", "rt", encoding="utf-8") as f:
            for line in f:
                for side in line.rstrip("\n").split("\t"):
                    if side.strip():
                        yield side.strip()


def norne(repeat=2):
    for lang in ("nob", "nno"):
        sents, toks = [], []
        with gzip.open(f"{D}/norne/bio/{lang}_train.tsv.gz", "rt", encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.startswith("#"):
                    continue
                if not line:
                    if toks:
                        sents.append(" ".join(toks))
                    toks = []
                    continue
                toks.append(line.split("\t")[0])
        if toks:
            sents.append(" ".join(toks))
        for _ in range(repeat):
            yield from sents


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".work/corpus")
    ap.add_argument("--limit", type=int, default=None, help="tiny test: only N NoReC reviews, 2k lines per other source")
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    lines, stats = [], {}
    srcs = [("norec", norec(a.limit)), ("talk_of_norway", talk_of_norway()), ("npk", npk()), ("norne_train_x2", norne())]
    for name, gen in srcs:
        n0 = len(lines)
        for j, s in enumerate(gen):
            if a.limit and name != "norec" and j >= 2000:
                break
            s = " ".join(s.split())
            if s:
                lines.append(s)
        part = lines[n0:]
        stats[name] = {"lines": len(part), "words": sum(len(s.split()) for s in part)}
        print(name, stats[name], flush=True)
    random.Random(a.seed).shuffle(lines)
    with open(os.path.join(a.out, "train.txt"), "w", encoding="utf-8") as f:
        for s in lines:
            f.write(s + "\n")
    stats["total"] = {"lines": len(lines), "words": sum(v["words"] for v in stats.values())}
    json.dump(stats, open(os.path.join(a.out, "stats.json"), "w"), indent=1)
    print("total", stats["total"])


if __name__ == "__main__":
    main()
