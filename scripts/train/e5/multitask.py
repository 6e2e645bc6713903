#!/usr/bin/env python3
"""Experiment (its model is not shipped): multi-task fine-tune of the shipped encoder on NorNE NER and the laws'
policy areas at once, to see what a topic model that shares a whole encoder with the NER model could reach. The
60 MB budget of `models/` holds one encoder, so a topic model better than `models/norsk-topic` (8 of 10 layers frozen
and shared) would have to share an encoder tuned for both tasks. Measured result in models/norsk-topic/README.md.

  * start: `models/norsk-bert-ner` (the NorNE fine-tune of the pruned multilingual-e5-small, fp16 -> fp32).
  * each step: one batch of 16 laws passages (title + ". " + text, first --max-len pieces, cross-entropy over the 16
    ministries through a pooler + linear head on the first token) and one batch of 32 NorNE sentences (nob + nno
    train, every piece labelled, continuations of B-X as I-X), the two losses added. NorNE batches in length buckets.
  * --epochs counts passes over the laws' train split (968 steps per epoch); NorNE batches cycle alongside.
  * AdamW, encoder LR --lr (embeddings frozen), heads --head-lr, 10 % warm-up then linear decay; grad norm 1.
  * dev (only evaluated, never trained on): laws dev every quarter (every 4th passage) and at the end (all, first
    window with the title); NorNE nob dev F1 (first piece of each word) at the start and the end.
  * --init CKPT starts from an earlier run's final.pt (both state dicts; weights only, with a fresh optimizer and
    schedule) instead of --base's weights; --ner-batches N takes N NorNE batches per step (NER weighed more; the
    logged NER loss is their sum); --class-weights sqrt weighs each ministry's loss by
    sqrt(passages / (ministries * its passages)), as `norsk train classify --class-weights sqrt` does.
  * OUT/final.pt holds both state dicts; OUT/log.txt the log.

Usage (repo root, 61 minutes on the idle 2-core CPU):
  nohup python3 scripts/train/e5/multitask.py --out .work/mt > .work/mt.out 2>&1 &
  # a second epoch that weighs NER more, from the first run's weights:
  nohup python3 scripts/train/e5/multitask.py --init .work/mt/final.pt --ner-batches 2 --lr 3e-5 \
    --class-weights sqrt --out .work/mt2 > .work/mt2.out 2>&1 &
"""
import json, lzma, time, random, os, argparse
import torch, torch.nn as nn
from transformers import BertForTokenClassification, PreTrainedTokenizerFast
from norne import read_bio
ap = argparse.ArgumentParser()
ap.add_argument("--base", default="models/norsk-bert-ner")
ap.add_argument("--out", default=".work/mt")
ap.add_argument("--data", default="../shared/data")
ap.add_argument("--lr", type=float, default=5e-5)
ap.add_argument("--head-lr", type=float, default=1e-3)
ap.add_argument("--epochs", type=float, default=1.0)
ap.add_argument("--topic-batch", type=int, default=16)
ap.add_argument("--ner-batch", type=int, default=32)
ap.add_argument("--max-len", type=int, default=128)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--init", help="an earlier run's final.pt to start from")
ap.add_argument("--ner-batches", type=int, default=1)
ap.add_argument("--class-weights", choices=["none", "sqrt"], default="none")
a = ap.parse_args()
torch.set_num_threads(2); torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True)
LOG = open(a.out + "/log.txt", "a", buffering=1)
def log(m):
    m = time.strftime("%H:%M:%S ") + m; print(m, flush=True); LOG.write(m + "\n")
tok = PreTrainedTokenizerFast(tokenizer_file=a.base + "/tokenizer.json")
PAD, CLS, SEP = 1, 0, 2
# --- NER data (NorNE nob + nno train; nob dev) ---
ner = BertForTokenClassification.from_pretrained(a.base, dtype=torch.float32)
LABELS = [ner.config.id2label[i] for i in range(ner.config.num_labels)]; L2I = {l: i for i, l in enumerate(LABELS)}
def encode_ner(sents, max_len):
    out = []
    enc = tok([s[0] for s in sents], is_split_into_words=True, add_special_tokens=False)
    for i, (toks, tags) in enumerate(sents):
        wids, ids = enc.word_ids(i)[: max_len - 2], enc["input_ids"][i][: max_len - 2]
        labels, first, prev = [-100], [None] * len(toks), None
        for j, w in enumerate(wids):
            if w != prev: labels.append(L2I[tags[w]]); first[w] = j + 1
            else:
                t = tags[w]; labels.append(L2I["I-" + t[2:]] if t.startswith("B-") else L2I[t])
            prev = w
        out.append({"ids": [CLS] + ids + [SEP], "labels": labels + [-100], "first": first, "tags": tags})
    return out
N = f"{a.data}/norne/bio"
ner_train = encode_ner(read_bio(f"{N}/nob_train.tsv.gz"), a.max_len) + encode_ner(read_bio(f"{N}/nno_train.tsv.gz"), a.max_len)
ner_dev = encode_ner(read_bio(f"{N}/nob_dev.tsv.gz"), 512)
# --- topic data (laws train; dev) ---
recs = [json.loads(l) for l in lzma.open(f"{a.data}/norwegian_laws_ministry/laws_chunks.jsonl.xz", "rt")]
TOPICS = sorted({r["label"] for r in recs}); T2I = {l: i for i, l in enumerate(TOPICS)}
def encode_topic(rs):
    enc = tok([r["title"] + ". " + r["text"][:3000] for r in rs], add_special_tokens=False)["input_ids"]
    return [{"ids": [CLS] + e[: a.max_len - 2] + [SEP], "y": T2I[r["label"]]} for e, r in zip(enc, rs)]
topic_train = encode_topic([r for r in recs if r["split"] == "train"])
topic_dev = encode_topic([r for r in recs if r["split"] == "dev"])
log(f"ner train {len(ner_train)} dev {len(ner_dev)}; topic train {len(topic_train)} dev {len(topic_dev)}")
# --- model: the NER model plus a sequence head (pooler + classifier) on the same encoder ---
class Topic(nn.Module):
    def __init__(s, h, k):
        super().__init__(); s.dense = nn.Linear(h, h); s.drop = nn.Dropout(0.1); s.classifier = nn.Linear(h, k)
    def forward(s, cls): return s.classifier(s.drop(torch.tanh(s.dense(cls))))
topic = Topic(384, len(TOPICS))
if a.init:
    state = torch.load(a.init); ner.load_state_dict(state["ner"]); topic.load_state_dict(state["topic"])
def pad(items):
    n = max(len(x["ids"]) for x in items)
    ids = torch.full((len(items), n), PAD); att = torch.zeros((len(items), n), dtype=torch.long)
    for i, x in enumerate(items): ids[i, : len(x["ids"])] = torch.tensor(x["ids"]); att[i, : len(x["ids"])] = 1
    return ids, att
def topic_logits(items):
    ids, att = pad(items)
    h = ner.bert(input_ids=ids, attention_mask=att).last_hidden_state
    return topic(h[:, 0])
def ner_logits(items):
    ids, att = pad(items)
    return ner(input_ids=ids, attention_mask=att).logits
@torch.no_grad()
def eval_topic(data):
    ner.eval(); topic.eval(); g, p = [], []
    for i in range(0, len(data), 32):
        b = data[i : i + 32]; p += topic_logits(b).argmax(-1).tolist(); g += [x["y"] for x in b]
    ner.train(); topic.train()
    acc = sum(x == y for x, y in zip(g, p)) / len(g); fs = []
    for c in set(g):
        tp = sum(x == c and y == c for x, y in zip(g, p)); fp = sum(x != c and y == c for x, y in zip(g, p)); fn = sum(x == c and y != c for x, y in zip(g, p))
        fs.append(2 * tp / (2 * tp + fp + fn) if tp else 0)
    return round(acc, 4), round(sum(fs) / len(fs), 4)
@torch.no_grad()
def eval_ner(data):
    from seqeval.metrics import f1_score
    ner.eval(); gold, pred = [], []
    order = sorted(range(len(data)), key=lambda j: len(data[j]["ids"]))
    for i in range(0, len(order), 64):
        b = [data[j] for j in order[i : i + 64]]; am = ner_logits(b).argmax(-1)
        for k, x in enumerate(b):
            pred.append([LABELS[int(am[k, j])] if j is not None else "O" for j in x["first"]]); gold.append(x["tags"])
    ner.train(); return round(f1_score(gold, pred), 4)
params = [(n, p) for n, p in ner.named_parameters()] + [("topic." + n, p) for n, p in topic.named_parameters()]
head = [p for n, p in params if n.startswith("classifier") or n.startswith("topic.")]
body = [p for n, p in params if not (n.startswith("classifier") or n.startswith("topic."))]
for p in ner.bert.embeddings.parameters(): p.requires_grad = False
body = [p for p in body if p.requires_grad]
opt = torch.optim.AdamW([{"params": body, "lr": a.lr, "base": a.lr}, {"params": head, "lr": a.head_lr, "base": a.head_lr, "weight_decay": 0.0}], weight_decay=0.01)
steps = int(len(topic_train) / a.topic_batch * a.epochs)
weights = None
if a.class_weights == "sqrt":
    counts = torch.bincount(torch.tensor([x["y"] for x in topic_train]), minlength=len(TOPICS)).float()
    weights = (counts.sum() / (len(TOPICS) * counts)).sqrt()
    log("class weights " + " ".join(f"{t}={x:.2f}" for t, x in zip(TOPICS, weights.tolist())))
def schedule(s): return min((s + 1) / (0.1 * steps), max(0.0, (steps - s) / (0.9 * steps)))
def order(n, seed):
    idx = list(range(n)); random.Random(seed).shuffle(idx); return idx
def buckets(data, bs, seed):
    idx = order(len(data), seed)  # length buckets: sorted inside chunks of 50 batches, batches shuffled
    chunks = [sorted(idx[i : i + bs * 50], key=lambda j: len(data[j]["ids"])) for i in range(0, len(idx), bs * 50)]
    bl = [c[i : i + bs] for c in chunks for i in range(0, len(c), bs)]
    random.Random(seed).shuffle(bl); return bl
ti, nbat = order(len(topic_train), 1), buckets(ner_train, a.ner_batch, 2)
log(f"start: ner dev F1 {eval_ner(ner_dev)}; steps {steps}")
ner.train(); topic.train(); t0 = time.time(); tl = nl = 0.0
for s in range(steps):
    for g in opt.param_groups: g["lr"] = g["base"] * schedule(s)
    tb = [topic_train[ti[(s * a.topic_batch + k) % len(ti)]] for k in range(a.topic_batch)]
    lt = nn.functional.cross_entropy(topic_logits(tb), torch.tensor([x["y"] for x in tb]), weight=weights)
    ln = 0.0
    for r in range(a.ner_batches):
        nb = [ner_train[j] for j in nbat[(s * a.ner_batches + r) % len(nbat)]]
        nl_ = ner_logits(nb); lab = torch.full(nl_.shape[:2], -100)
        for k, x in enumerate(nb): lab[k, : len(x["labels"])] = torch.tensor(x["labels"])
        ln = ln + nn.functional.cross_entropy(nl_.reshape(-1, len(LABELS)), lab.reshape(-1))
    (lt + ln).backward(); torch.nn.utils.clip_grad_norm_(body + head, 1.0); opt.step(); opt.zero_grad()
    tl += lt.item(); nl += ln.item()
    if (s + 1) % 50 == 0:
        log(f"step {s+1}/{steps} topic {tl/50:.4f} ner {nl/50:.4f} {time.time()-t0:.0f}s"); tl = nl = 0.0
    if (s + 1) % (steps // 4) == 0 and s + 1 < steps:
        log(f"quarter: topic dev (every 4th) {eval_topic(topic_dev[::4])}")
        torch.save({"ner": ner.state_dict(), "topic": topic.state_dict()}, a.out + "/ckpt.pt")
log(f"end: topic dev {eval_topic(topic_dev)} ner dev F1 {eval_ner(ner_dev)} {time.time()-t0:.0f}s")
torch.save({"ner": ner.state_dict(), "topic": topic.state_dict()}, a.out + "/final.pt")
log("saved")
