#!/usr/bin/env python3
"""Fine-tune the pretrained small BERT for NorNE NER (19 IOB2 labels) on CPU and export the best model.

  * train: NorNE nob train (+ nno train with --nno, default on); select: nob dev entity micro-F1 (seqeval default mode).
    Dev splits are only evaluated, never trained on.
  * all sub-tokens are labelled (continuation pieces of a B-X word get I-X); predictions are read from the first
    sub-token of each word.
  * AdamW, encoder LR --lr, classifier head LR --head-lr; linear warmup (5%) then linear decay, schedule driven by
    max(elapsed/--minutes, step/total_steps) so it ends on time; bf16 autocast for training, fp32 for evaluation.
  * evaluates nob dev + nno dev after each epoch (and at the time limit), logs F1 (default + strict IOB2)
    and per-type F1 to --log; keeps the best state by nob dev F1 in .work/ner/best.
  * export: best model -> --export (HF layout: config.json with id2label/label2id, model.safetensors [fp16 storage
    if fp32 would exceed --max-mb], tokenizer files, vocab.txt), then reloads the export with
    AutoModelForTokenClassification/AutoTokenizer and re-evaluates it (numbers written to OUT/export_eval.json).
Usage: python scripts/train/finetune_ner.py --encoder .work/encoder --minutes 25 --export models/norsk-bert-ner
"""
import argparse, json, math, os, random, shutil, sys, time
import numpy as np
import torch
from seqeval.metrics import f1_score, classification_report
from seqeval.scheme import IOB2
from transformers import AutoTokenizer, AutoModelForTokenClassification
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e5"))
from norne import read_bio as read_bio_file  # the one NorNE reader, shared with the e5 scripts

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-GPE_LOC", "I-GPE_LOC", "B-GPE_ORG",
          "I-GPE_ORG", "B-PROD", "I-PROD", "B-EVT", "I-EVT", "B-DRV", "I-DRV", "B-MISC", "I-MISC"]
L2I = {l: i for i, l in enumerate(LABELS)}
D = "/work/shared/data/norne/bio"

ap = argparse.ArgumentParser()
ap.add_argument("--encoder", default=".work/encoder")
ap.add_argument("--out", default=".work/ner")
ap.add_argument("--export", default="models/norsk-bert-ner")
ap.add_argument("--log", default=".work/logs/ner.log")
ap.add_argument("--nno", type=int, default=1, help="also train on nno train")
ap.add_argument("--epochs", type=int, default=15)
ap.add_argument("--minutes", type=float, default=25)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=4e-4)
ap.add_argument("--head-lr", type=float, default=1e-3)
ap.add_argument("--dropout", type=float, default=0.1)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--max-mb", type=float, default=28)
ap.add_argument("--limit", type=int, default=None, help="tiny test: N sentences per file")
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.set_num_interop_threads(1)
random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True); os.makedirs(os.path.dirname(a.log), exist_ok=True)
LOG = open(a.log, "a", buffering=1)


def log(msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
    print(line, flush=True); LOG.write(line + "\n"); LOG.flush()


def read_bio(path):
    sents = read_bio_file(path)
    return sents[: a.limit] if a.limit else sents


tok = AutoTokenizer.from_pretrained(a.encoder)


def encode(sents, train):
    out = []
    enc = tok([s[0] for s in sents], is_split_into_words=True, truncation=True, max_length=256)
    for i, (toks, tags) in enumerate(sents):
        wids = enc.word_ids(i)
        ids = enc["input_ids"][i]
        labels, first, prev = [], [], None
        for j, w in enumerate(wids):
            if w is None:
                labels.append(-100)
            elif w != prev:
                labels.append(L2I[tags[w]]); first.append(j)
            else:
                t = tags[w]
                labels.append(L2I["I-" + t[2:]] if t.startswith("B-") else L2I[t])
            prev = w
        out.append({"ids": ids, "labels": labels, "first": first, "tags": tags[: len(first)], "ntok": len(toks)})
    return out


train = encode(read_bio(f"{D}/nob_train.tsv.gz"), True)
if a.nno:
    train += encode(read_bio(f"{D}/nno_train.tsv.gz"), True)
dev = {lang: encode(read_bio(f"{D}/{lang}_dev.tsv.gz"), False) for lang in ("nob", "nno")}
log(f"NER data: train={len(train)} (nno={bool(a.nno)}) dev nob={len(dev['nob'])} nno={len(dev['nno'])} encoder={a.encoder}")


def collate(items):
    n = max(len(x["ids"]) for x in items)
    ids = torch.full((len(items), n), tok.pad_token_id)
    lab = torch.full((len(items), n), -100)
    att = torch.zeros((len(items), n), dtype=torch.long)
    for i, x in enumerate(items):
        k = len(x["ids"])
        ids[i, :k] = torch.tensor(x["ids"]); lab[i, :k] = torch.tensor(x["labels"]); att[i, :k] = 1
    return ids, att, lab


def batches(data, bs, shuffle, rng):
    idx = list(range(len(data)))
    if shuffle:
        rng.shuffle(idx)
        # bucket: sort within chunks of 50 batches by length to reduce padding
        chunks = [sorted(idx[i:i + bs * 50], key=lambda j: len(data[j]["ids"])) for i in range(0, len(idx), bs * 50)]
        bl = [c[i:i + bs] for c in chunks for i in range(0, len(c), bs)]
        rng.shuffle(bl)
        return bl
    idx.sort(key=lambda j: len(data[j]["ids"]))
    return [idx[i:i + bs] for i in range(0, len(idx), bs)]


@torch.no_grad()
def evaluate(model, data):
    model.eval()
    gold, pred = [], []
    for b in batches(data, 64, False, None):
        items = [data[j] for j in b]
        ids, att, _ = collate(items)
        logits = model(input_ids=ids, attention_mask=att).logits
        am = logits.argmax(-1)
        for i, x in enumerate(items):
            p = [LABELS[int(am[i, j])] for j in x["first"]]
            gold.append(x["tags"]); pred.append(p)
    model.train()
    f_def = f1_score(gold, pred)
    f_strict = f1_score(gold, pred, mode="strict", scheme=IOB2)
    rep = classification_report(gold, pred, output_dict=True, zero_division=0)
    per_type = {k: round(v["f1-score"], 4) for k, v in rep.items() if "avg" not in k}
    return f_def, f_strict, per_type


model = AutoModelForTokenClassification.from_pretrained(
    a.encoder, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=L2I,
    hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout)
head = [p for n, p in model.named_parameters() if n.startswith("classifier")]
enc_decay = [p for n, p in model.named_parameters() if not n.startswith("classifier") and p.ndim >= 2 and "LayerNorm" not in n]
enc_nodecay = [p for n, p in model.named_parameters() if not n.startswith("classifier") and (p.ndim < 2 or "LayerNorm" in n)]
opt = torch.optim.AdamW([{"params": enc_decay, "lr": a.lr, "weight_decay": 0.01, "base": a.lr},
                         {"params": enc_nodecay, "lr": a.lr, "weight_decay": 0.0, "base": a.lr},
                         {"params": head, "lr": a.head_lr, "weight_decay": 0.0, "base": a.head_lr}])
rng = random.Random(a.seed)
steps_per_epoch = math.ceil(len(train) / a.batch)
total = steps_per_epoch * a.epochs
t_start, step, best, hist = time.time(), 0, -1.0, []
budget = a.minutes * 60


def progress():
    return max((time.time() - t_start) / budget, step / total)


def do_eval(tag):
    global best
    res = {}
    for lang in ("nob", "nno"):
        res[lang] = evaluate(model, dev[lang])
    f, fs, pt = res["nob"]
    log(f"EVAL {tag} step={step} nob_dev_F1={f:.4f} (strict {fs:.4f}) nno_dev_F1={res['nno'][0]:.4f} "
        f"(strict {res['nno'][1]:.4f}) min={(time.time()-t_start)/60:.1f}")
    log(f"  nob per-type F1: {json.dumps(pt)}")
    log(f"  nno per-type F1: {json.dumps(res['nno'][2])}")
    hist.append({"tag": tag, "step": step, "nob": res["nob"][:2], "nno": res["nno"][:2], "nob_types": pt})
    if f > best:
        best = f
        model.save_pretrained(os.path.join(a.out, "best"))
        tok.save_pretrained(os.path.join(a.out, "best"))
        json.dump({"tag": tag, "nob_dev": res["nob"], "nno_dev": res["nno"]}, open(os.path.join(a.out, "best", "dev_scores.json"), "w"), indent=1)
        log(f"  new best (nob dev F1 {f:.4f}) saved to {a.out}/best")


model.train()
done = False
for ep in range(1, a.epochs + 1):
    tl, tn, t0 = 0.0, 0, time.time()
    for b in batches(train, a.batch, True, rng):
        p = progress()
        if p >= 1.0:
            done = True
            break
        mult = min(p / 0.05, 1.0) if p < 0.05 else max(0.0, (1 - p) / 0.95)
        for g in opt.param_groups:
            g["lr"] = g["base"] * max(mult, 0.0)
        ids, att, lab = collate([train[j] for j in b])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(input_ids=ids, attention_mask=att).logits
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, len(LABELS)), lab.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1; tl += loss.item(); tn += 1
        if step % 100 == 0:
            log(f"ep={ep} step={step}/{total} loss={tl/tn:.4f} lr_mult={mult:.3f} progress={p:.3f}")
            tl, tn = 0.0, 0
    log(f"epoch {ep} {'(cut by time limit) ' if done else ''}took {(time.time()-t0)/60:.1f} min")
    do_eval(f"epoch{ep}")
    if done:
        break
json.dump(hist, open(os.path.join(a.out, "history.json"), "w"), indent=1)

# ---- export best ----
best_dir = os.path.join(a.out, "best")
m = AutoModelForTokenClassification.from_pretrained(best_dir, dtype=torch.float32)
m.config.hidden_dropout_prob = 0.1; m.config.attention_probs_dropout_prob = 0.1
nparams = sum(p.numel() for p in m.parameters())
fp16 = nparams * 4 / 1e6 > a.max_mb
if os.path.isdir(a.export):
    for f in os.listdir(a.export):
        if f != "README.md":
            os.remove(os.path.join(a.export, f))
os.makedirs(a.export, exist_ok=True)
if fp16:
    m = m.half()
m.save_pretrained(a.export)
t2 = AutoTokenizer.from_pretrained(best_dir)
t2.model_max_length = 512
t2.save_pretrained(a.export)
with open(os.path.join(a.export, "vocab.txt"), "w", encoding="utf-8") as f:  # transformers 5 no longer writes it
    for t, _ in sorted(t2.get_vocab().items(), key=lambda x: x[1]):
        f.write(t + "\n")
for f in os.listdir(a.export):
    os.chmod(os.path.join(a.export, f), 0o644)
cfg = json.load(open(os.path.join(a.export, "config.json")))
if fp16:  # weights stored as fp16 to halve the file; tell loaders to compute in fp32 by default
    cfg["dtype"] = "float32"
    json.dump(cfg, open(os.path.join(a.export, "config.json"), "w"), indent=2)
tc = json.load(open(os.path.join(a.export, "tokenizer_config.json")))
tc.update({"do_lower_case": False, "model_max_length": 512})
json.dump(tc, open(os.path.join(a.export, "tokenizer_config.json"), "w"), indent=2)
log(f"exported {a.export}: params={nparams/1e6:.2f}M storage={'fp16' if fp16 else 'fp32'} dtype_in_config={cfg.get('dtype', cfg.get('torch_dtype'))} "
    f"files={ {f: os.path.getsize(os.path.join(a.export, f)) for f in sorted(os.listdir(a.export))} }")

# ---- re-evaluate the exported model exactly as a user would load it ----
tok = AutoTokenizer.from_pretrained(a.export)
model = AutoModelForTokenClassification.from_pretrained(a.export, dtype=torch.float32)
res = {lang: evaluate(model, dev[lang]) for lang in ("nob", "nno")}
t0 = time.time(); evaluate(model, dev["nob"]); dt = time.time() - t0
ntok = sum(x["ntok"] for x in dev["nob"])
out = {"nob_dev_f1": res["nob"][0], "nob_dev_f1_strict": res["nob"][1], "nob_per_type": res["nob"][2],
       "nno_dev_f1": res["nno"][0], "nno_dev_f1_strict": res["nno"][1], "nno_per_type": res["nno"][2],
       "params": nparams, "storage": "fp16" if fp16 else "fp32",
       "speed_nob_dev_words_per_s_fp32_2threads_batch64": ntok / dt}
json.dump(out, open(os.path.join(a.out, "export_eval.json"), "w"), indent=1)
log(f"EXPORTED MODEL dev scores: {json.dumps(out)}")
open(os.path.join(a.out, "DONE"), "w").write(json.dumps(out) + "\n")
