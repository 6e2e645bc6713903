#!/usr/bin/env python3
"""Split a model folder's model.safetensors into shards of at most --max-mb MB (Hugging Face layout:
model-0000i-of-0000n.safetensors + model.safetensors.index.json), tensors and dtypes unchanged, so no
file in the repository is over 20 MB. transformers and norsk load the sharded folder as before.

Names may carry the `bert.` prefix of a model with a head or not (a bare `BertModel`, as the embedding model).
Shards hold whole units (the embeddings, one encoder layer, the head), in model order. `--boundary L` starts a
new shard at encoder layer L, so that a model trained with the first L layers frozen
(`norsk train classify --freeze-layers L --share-base-shards`) can refer to the shards before it; `--boundary`
with the number of layers starts a shard at the head, so that a classifier on the whole frozen encoder can refer to
every shard but the head's.

Usage: python3 scripts/train/e5/shard.py models/norsk-bert-ner --max-mb 15 --boundary 8
"""
import argparse, json, os, re
from safetensors import safe_open
from safetensors.torch import save_file

ap = argparse.ArgumentParser()
ap.add_argument("folder")
ap.add_argument("--max-mb", type=float, default=15)
ap.add_argument("--boundary", type=int, action="append", default=[], help="encoder layer that starts a shard")
a = ap.parse_args()
src = os.path.join(a.folder, "model.safetensors")
with safe_open(src, "pt") as f:
    meta = f.metadata() or {"format": "pt"}
    tensors = {k: f.get_tensor(k) for k in f.keys()}


def unit(name):
    """(order, layer) of a tensor: embeddings first, then layers in order, then everything else."""
    m = re.match(r"(?:bert\.)?encoder\.layer\.(\d+)\.", name)
    if m:
        return (1, int(m.group(1)))
    return (0, -1) if name.startswith(("bert.embeddings.", "embeddings.")) else (2, -1)


units = {}
for name in sorted(tensors):
    units.setdefault(unit(name), []).append(name)
nbytes = lambda names: sum(tensors[n].numel() * tensors[n].element_size() for n in names)
limit = a.max_mb * 1e6
n_layers = 1 + max(layer for kind, layer in units if kind == 1)
shards, cur = [], []
for key in sorted(units):
    names = units[key]
    starts = {0: None, 1: key[1], 2: n_layers}[key[0]]  # the layer a unit begins (the head: n_layers)
    forced = starts in a.boundary
    if cur and (forced or nbytes(cur) + nbytes(names) > limit):
        shards.append(cur)
        cur = []
    cur += names
shards.append(cur)
total = nbytes(list(tensors))
weight_map = {}
for i, shard in enumerate(shards, 1):
    fname = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
    save_file({k: tensors[k] for k in shard}, os.path.join(a.folder, fname), metadata=meta)
    weight_map.update({k: fname for k in shard})
    print(f"{fname}: {nbytes(shard) / 1e6:.1f} MB, {shard[0]} .. {shard[-1]}")
with open(os.path.join(a.folder, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
os.remove(src)
print(f"{len(shards)} shards, total {total/1e6:.1f} MB")
