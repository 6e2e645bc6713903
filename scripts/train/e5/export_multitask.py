#!/usr/bin/env python3
"""Write the NER half of a multitask.py run (OUT/final.pt) as a model folder laid out like --base: the base's
config, tokenizer, card and notice copied, the weights replaced by the run's (fp16, one model.safetensors; cut it
into shards with shard.py). The folder is reloaded the way a user loads it and checked against the run's fp32 weights.

Usage: python3 scripts/train/e5/export_multitask.py .work/mt2/final.pt --out .work/mt2/ner
       python3 scripts/train/e5/shard.py .work/mt2/ner --max-mb 15 --boundary 10
"""
import argparse, os, shutil
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("checkpoint")
ap.add_argument("--base", default="models/norsk-bert-ner")
ap.add_argument("--out", required=True)
a = ap.parse_args()
SENTENCE = "Statsminister Jonas Gahr Støre møtte Equinor i Stavanger."


def logits(model, folder):
    with torch.no_grad():
        return model(**AutoTokenizer.from_pretrained(folder)(SENTENCE, return_tensors="pt")).logits


model = AutoModelForTokenClassification.from_pretrained(a.base, dtype=torch.float32).eval()
model.load_state_dict(torch.load(a.checkpoint)["ner"])
fp32 = logits(model, a.base)
if os.path.isdir(a.out):
    shutil.rmtree(a.out)
os.makedirs(a.out)
for f in os.listdir(a.base):
    if not f.startswith("model"):
        shutil.copyfile(os.path.join(a.base, f), os.path.join(a.out, f))
model.half().save_pretrained(a.out)  # writes its own config.json: put the base's back
shutil.copyfile(os.path.join(a.base, "config.json"), os.path.join(a.out, "config.json"))
reloaded = AutoModelForTokenClassification.from_pretrained(a.out).eval()
diff = (fp32 - logits(reloaded, a.out)).abs().max().item()
assert reloaded.dtype == torch.float32 and diff < 0.05, diff
print(f"wrote {a.out}: {sorted(os.listdir(a.out))}; max |logit difference| after fp16 storage {diff:.4f}")
