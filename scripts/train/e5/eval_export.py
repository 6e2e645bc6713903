#!/usr/bin/env python3
"""Stage 4: evaluate an exported NER folder exactly as a user loads it (AutoTokenizer + AutoModelForTokenClassification,
fp32 compute), words predicted by their FIRST sub-token, seqeval default and strict (IOB2), per-type F1, on
NorNE nob_dev and nno_dev. Writes EXPORT_eval.json next to the folder (in .work/).
Usage: nice -n 10 python3 scripts/train/e5/eval_export.py --model .work/e5/ner-export"""
import argparse, json, os, time
import torch
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.scheme import IOB2
from transformers import AutoModelForTokenClassification, AutoTokenizer
from norne import read_bio

ap = argparse.ArgumentParser()
ap.add_argument("--model", default=".work/e5/ner-export")
ap.add_argument("--data", default="/work/shared/data/norne/bio")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--out", default=None)
a = ap.parse_args()
torch.set_num_threads(a.threads)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForTokenClassification.from_pretrained(a.model, attn_implementation="eager").eval()
id2label = model.config.id2label
print(f"{a.model}: {type(tok).__name__} vocab={len(tok)} dtype={model.dtype} params={sum(p.numel() for p in model.parameters())/1e6:.2f}M")


@torch.no_grad()
def run(sents, bs=64):
    order = sorted(range(len(sents)), key=lambda i: len(sents[i][0]))
    pred = [None] * len(sents)
    for k in range(0, len(order), bs):
        idx = order[k:k + bs]
        enc = tok([sents[i][0] for i in idx], is_split_into_words=True, truncation=True, max_length=512,
                  padding=True, return_tensors="pt")
        am = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits.argmax(-1)
        for r, i in enumerate(idx):
            first = {}
            for j, w in enumerate(enc.word_ids(r)):
                if w is not None and w not in first: first[w] = j
            pred[i] = [id2label[int(am[r, first[w]])] if w in first else "O" for w in range(len(sents[i][0]))]
    return pred


res = {}
for split in ("nob_dev", "nno_dev"):
    sents = read_bio(os.path.join(a.data, f"{split}.tsv.gz"))
    gold = [s[1] for s in sents]
    t0 = time.time(); pred = run(sents); dt = time.time() - t0
    rep = classification_report(gold, pred, output_dict=True, zero_division=0)
    reps = classification_report(gold, pred, output_dict=True, zero_division=0, mode="strict", scheme=IOB2)
    r = {"f1": f1_score(gold, pred), "precision": precision_score(gold, pred), "recall": recall_score(gold, pred),
         "f1_strict": f1_score(gold, pred, mode="strict", scheme=IOB2),
         "per_type": {k: {"p": round(v["precision"], 4), "r": round(v["recall"], 4), "f1": round(v["f1-score"], 4),
                          "f1_strict": round(reps[k]["f1-score"], 4), "support": int(v["support"])}
                      for k, v in rep.items() if "avg" not in k},
         "sentences": len(sents), "words": sum(len(g) for g in gold), "seconds": round(dt, 1)}
    res[split] = r
    print(f"\n{split}: F1 {r['f1']:.4f} (P {r['precision']:.4f} R {r['recall']:.4f})  strict F1 {r['f1_strict']:.4f}  "
          f"[{r['words']} words in {dt:.0f}s]")
    print(f"  {'type':8} {'P':>7} {'R':>7} {'F1':>7} {'strict':>7} {'support':>7}")
    for k, v in r["per_type"].items():
        print(f"  {k:8} {v['p']:7.4f} {v['r']:7.4f} {v['f1']:7.4f} {v['f1_strict']:7.4f} {v['support']:7d}")
out = a.out or a.model.rstrip("/") + "_eval.json"
json.dump(res, open(out, "w"), indent=1)
print("wrote", out)
