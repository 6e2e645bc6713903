#!/usr/bin/env python3
"""How far the vocabulary pruning moves e5's sentence embeddings: mean-pooled, L2-normalised embeddings (the
sentence-transformers way) of the full multilingual-e5-small (.work/e5/base, 250k pieces) against a pruned folder,
on a seeded sample of NoReC *train* reviews (first 600 characters each), with the "passage: " and "query: " prompts.
Prints the cosine of each text's two embeddings (mean, min) and the correlation of the two models' pairwise
similarities (what retrieval and zero-shot topics depend on).

Usage (repo root): nice -n 10 python3 scripts/train/e5/compare_full.py --pruned models/norsk-e5-embed
"""
import argparse, json, lzma, random
import torch
from transformers import AutoTokenizer, BertModel

ap = argparse.ArgumentParser()
ap.add_argument("--base", default=".work/e5/base")
ap.add_argument("--pruned", default="models/norsk-e5-embed")
ap.add_argument("--texts", type=int, default=40)
ap.add_argument("--seed", type=int, default=5)
a = ap.parse_args()
torch.set_num_threads(2)
with lzma.open("/work/shared/data/norec/norec_train.jsonl.xz", "rt", encoding="utf-8") as f:
    texts = [json.loads(line)["text"] for line in f]
random.Random(a.seed).shuffle(texts)
texts = [t[:600] for t in texts[-a.texts:]]


def embed(folder, prompt):
    tok = AutoTokenizer.from_pretrained(folder)
    model = BertModel.from_pretrained(folder, add_pooling_layer=False).eval()
    out = []
    for t in texts:
        enc = tok(prompt + t, return_tensors="pt", truncation=True, max_length=512)
        with torch.no_grad():
            v = model(**enc).last_hidden_state[0].mean(0)
        out.append(v / v.norm())
    return torch.stack(out)


upper = torch.triu(torch.ones(len(texts), len(texts)), 1) == 1
for prompt in ["passage: ", "query: "]:
    full, pruned = embed(a.base, prompt), embed(a.pruned, prompt)
    cos = (full * pruned).sum(1)
    corr = torch.corrcoef(torch.stack([(full @ full.T)[upper], (pruned @ pruned.T)[upper]]))[0, 1]
    print(f"{prompt!r}: cosine full vs pruned mean {cos.mean():.4f} min {cos.min():.4f}; "
          f"pairwise-similarity correlation {corr:.4f} ({len(texts)} NoReC train texts)")
