#!/usr/bin/env python3
"""Keep norsk-topic working when the NER model it was trained on is replaced.

norsk-topic was trained with the embeddings and encoder layers 0..L-1 of an earlier norsk-bert-ner frozen, and its
index referred to that model's shards for them. When norsk-bert-ner is retrained, this script gives norsk-topic its
own copy of those frozen encoder layers (`model-frozen-N.safetensors`, at most --max-mb each, whole layers in order,
tensors and dtypes unchanged) and points its
embeddings at the new norsk-bert-ner's embeddings shard (`shard.py --boundary 0` puts them in a shard of their own),
so that the two models still store the vocabulary matrix once. The embeddings then differ slightly from those the
topic model was trained with: measure with `norsk eval classify` before and after (the model card says by how much).

Usage (repository root; the old NER folder as it was, e.g. from `git show`):
  python3 scripts/train/e5/rebase_topic.py --old-ner .work/old-ner --topic models/norsk-topic --ner models/norsk-bert-ner
"""
import argparse, json, os, re
from safetensors import safe_open
from safetensors.torch import save_file

ap = argparse.ArgumentParser()
ap.add_argument("--old-ner", required=True, help="the NER folder norsk-topic was trained on")
ap.add_argument("--topic", default="models/norsk-topic")
ap.add_argument("--ner", default="models/norsk-bert-ner", help="the new NER folder, embeddings in a shard alone")
ap.add_argument("--max-mb", type=float, default=15, help="largest frozen file, 1 MB = 1e6 bytes")
a = ap.parse_args()

index_path = os.path.join(a.topic, "model.safetensors.index.json")
index = json.load(open(index_path))
ner_folder = os.path.basename(os.path.normpath(a.ner))
new_ner = json.load(open(os.path.join(a.ner, "model.safetensors.index.json")))["weight_map"]
frozen, weight_map = {}, {}
for name, file in sorted(index["weight_map"].items()):
    if not file.startswith("../"):
        weight_map[name] = file  # the topic model's own trained tensors
    elif name.startswith("bert.embeddings."):
        shard = new_ner[name]
        embedding_shard = {n for n, f in new_ner.items() if f == shard}
        assert all(n.startswith("bert.embeddings.") for n in embedding_shard), f"{shard} holds more than embeddings"
        weight_map[name] = f"../{ner_folder}/{shard}"
    else:
        with safe_open(os.path.join(a.old_ner, os.path.basename(file)), "pt") as f:
            frozen[name] = f.get_tensor(name)
layer = lambda name: int(re.search(r"\.layer\.(\d+)\.", name).group(1))
nbytes = lambda t: t.numel() * t.element_size()
files, current, size = [], [], 0
for n in range(max(map(layer, frozen)) + 1):
    names = sorted(k for k in frozen if layer(k) == n)
    grown = sum(nbytes(frozen[k]) for k in names)
    if current and size + grown > a.max_mb * 1e6:
        files.append(current); current, size = [], 0
    current += names; size += grown
files.append(current)
for i, names in enumerate(files, 1):
    file = f"model-frozen-{i}.safetensors"
    save_file({k: frozen[k] for k in names}, os.path.join(a.topic, file), metadata={"format": "pt"})
    weight_map.update({k: file for k in names})
index["weight_map"] = weight_map
json.dump(index, open(index_path, "w"), indent=2)
size = sum(t.numel() * t.element_size() for t in frozen.values())
total = sum(map(nbytes, frozen.values()))
print(f"{len(frozen)} frozen tensors copied ({total / 1e6:.1f} MB in {len(files)} files), embeddings from ../{ner_folder}")
