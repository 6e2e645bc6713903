#!/usr/bin/env python3
"""Split a model folder's model.safetensors into shards of at most --max-mb MB (Hugging Face layout:
model-0000i-of-0000n.safetensors + model.safetensors.index.json), tensors and dtypes unchanged, so no
file in the repository is over 20 MB. transformers and norsk load the sharded folder as before.

Usage: python3 scripts/train/e5/shard.py models/norsk-bert-ner --max-mb 15
"""
import argparse, json, os
from safetensors import safe_open
from safetensors.torch import save_file

ap = argparse.ArgumentParser()
ap.add_argument("folder")
ap.add_argument("--max-mb", type=float, default=15)
a = ap.parse_args()
src = os.path.join(a.folder, "model.safetensors")
with safe_open(src, "pt") as f:
    meta = f.metadata() or {"format": "pt"}
    tensors = {k: f.get_tensor(k) for k in f.keys()}
limit = a.max_mb * 1e6
shards, cur, size = [], {}, 0
for name in sorted(tensors):
    n = tensors[name].numel() * tensors[name].element_size()
    if cur and size + n > limit:
        shards.append(cur); cur, size = {}, 0
    cur[name] = tensors[name]; size += n
shards.append(cur)
total = sum(t.numel() * t.element_size() for t in tensors.values())
weight_map = {}
for i, shard in enumerate(shards, 1):
    fname = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
    save_file(shard, os.path.join(a.folder, fname), metadata=meta)
    weight_map.update({k: fname for k in shard})
with open(os.path.join(a.folder, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
os.remove(src)
print(f"{len(shards)} shards, total {total/1e6:.1f} MB")
