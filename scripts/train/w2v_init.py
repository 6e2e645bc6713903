#!/usr/bin/env python3
"""Cheap lexical pretraining: word2vec (gensim, CBOW, negative sampling) over the WordPiece token stream, used to
initialise BERT's word-embedding matrix (tied with the MLM decoder) before MLM pretraining.
Why: on a shared 2-core CPU the MLM sees only a few million tokens in an hour; word2vec sees the whole 24.5M-token
corpus several times in a few minutes, so the embedding layer starts with real lexical knowledge (names, places,
compounds), which is what NER needs most.  Architecture is unchanged (standard BERT); only the initial values differ.
gensim is installed into .work/pylib (pip install --target .work/pylib gensim==4.4.0 smart_open --no-deps).
Usage: python scripts/train/w2v_init.py --tokens .work/pretrain/tokens_20000_all.npy --dim 256 --out .work/w2v
Output: OUT/emb_DIM.npy (vocab x DIM float32, rows of unseen ids ~N(0, 0.02)); per-element std rescaled to --std.
"""
import argparse, os, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".work", "pylib"))
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--tokens", default=".work/pretrain/tokens_20000_all.npy")
ap.add_argument("--vocab", type=int, default=20000)
ap.add_argument("--sep", type=int, default=3)
ap.add_argument("--dim", type=int, default=256)
ap.add_argument("--epochs", type=int, default=4)
ap.add_argument("--sg", type=int, default=0)
ap.add_argument("--std", type=float, default=0.05)
ap.add_argument("--out", default=".work/w2v")
ap.add_argument("--max-tokens", type=int, default=None)
ap.add_argument("--log", default=".work/logs/w2v.log")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
LOG = open(a.log, "a", buffering=1)


def log(m):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {m}"
    print(line, flush=True); LOG.write(line + "\n")


from gensim.models import Word2Vec

s = np.load(a.tokens)
if a.max_tokens:
    s = s[: a.max_tokens]
txt = os.path.join(a.out, "corpus_ids.txt")
t0 = time.time()
ends = np.flatnonzero(s == a.sep)
names = np.array([str(i) for i in range(a.vocab)], dtype=object)
with open(txt, "w") as f:
    start = 0
    for e in ends:
        if e > start:
            f.write(" ".join(names[s[start:e]]) + "\n")
        start = e + 1
log(f"w2v corpus written: {len(s):,} tokens, {len(ends):,} lines, {time.time()-t0:.0f}s")
t0 = time.time()
m = Word2Vec(corpus_file=txt, vector_size=a.dim, window=5, min_count=1, sg=a.sg, negative=5, sample=1e-4,
             workers=2, epochs=a.epochs, seed=42)
log(f"w2v trained: dim={a.dim} sg={a.sg} epochs={a.epochs} vocab_seen={len(m.wv):,} in {time.time()-t0:.0f}s")
rng = np.random.default_rng(42)
emb = rng.normal(0, 0.02, (a.vocab, a.dim)).astype(np.float32)
vec = np.stack([m.wv[k] for k in m.wv.index_to_key])
vec = (vec - vec.mean(0)) / vec.std() * a.std
for k, v in zip(m.wv.index_to_key, vec):
    emb[int(k)] = v
np.save(os.path.join(a.out, f"emb_{a.dim}.npy"), emb)
os.remove(txt)
# sanity: nearest neighbours of a few tokens
try:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(".work/tokenizer")
    for w in ["Oslo", "Bergen", "Jonas", "NRK", "regjeringen", "film"]:
        i = tok.convert_tokens_to_ids(w)
        if str(i) in m.wv:
            nn = [tok.convert_ids_to_tokens(int(k)) for k, _ in m.wv.most_similar(str(i), topn=6)]
            log(f"  nn({w}) = {nn}")
except Exception as e:
    log(f"nn check skipped: {e}")
log(f"saved {a.out}/emb_{a.dim}.npy")
