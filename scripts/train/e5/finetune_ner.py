#!/usr/bin/env python3
"""Stage 3: fine-tune the vocabulary-pruned multilingual-e5-small for NorNE NER (19 IOB2 labels) on CPU.

  * train: NorNE nob_train + nno_train; model selection: nob_dev entity micro-F1 (seqeval default mode) after
    each epoch. Dev splits are only evaluated, never trained on.
  * every sub-token is labelled (continuation pieces of a B-X word get I-X); predictions are read from the FIRST
    sub-token of each word (the Rust side aggregates with "first"). Train sentences are truncated to --max-len
    pieces; evaluation uses up to 512 pieces so no gold word is dropped (a word without any piece is predicted O).
  * AdamW (weight decay 0.01 on encoder matrices), encoder LR --lr, head LR --head-lr, linear warm-up over
    --warmup of the schedule, then linear decay to 0. Schedule position = max(step/total_steps, elapsed/budget)
    so that it also ends on time when --minutes is the binding limit. Training in bf16 autocast on CPUs with
    AVX512-BF16/AMX, else fp32 (`--amp`); evaluation in fp32.
  * attention: "eager" (measured on an AVX512-BF16 CPU: one bf16 train step of 32x30 pieces takes 0.53 s eager vs
    3.3 s with sdpa; in fp32 on an AVX2-only CPU both run ~23 sentences/s).
  * batches: shuffled chunks of 50 batches, sorted by length inside each chunk (length buckets), seeded per epoch.
  * checkpoint after each epoch in OUT/ckpt (model, optimizer, RNG, step, elapsed, history) -> --resume continues;
    the best epoch (nob dev F1) is kept in OUT/best (fp32 HF folder).
  * export: OUT/best -> --export as fp16 safetensors + config.json (id2label/label2id, BertForTokenClassification,
    dtype float32 so loaders compute in fp32) + tokenizer.json / tokenizer_config.json (model_max_length 512) /
    special_tokens_map.json (with --context: `"norsk_sentence_context": true` in config.json, model_max_length
    --export-max-length; `norsk_aggregation` / `norsk_decoding` from --export-aggregation / --export-decoding, the
    defaults `norsk ner` then uses for this model). `--export-only` re-exports an existing OUT/best.
  * `--context N` (document context, as FLERT / Luoma & Pyysalo 2020): instead of one sentence per sequence, the
    sentences of one NDT document (`# ndt_doc` of the train conllu files) are packed in order into sequences of up to
    N pieces, re-chunked at random each epoch (a chunk also ends early with probability --context-break at each
    sentence boundary, so short contexts and lone sentences are seen too); every sentence in a chunk is labelled, each
    sees its neighbours. Dev (no document marks; the files are in document order) is packed the same way in file
    order without random breaks, as `norsk eval ner --context` does.
  * `--bench-seconds S`: measure training throughput for S seconds (no saving) and print the projected epoch time.

Usage (repo root):
  nice -n 10 python3 scripts/train/e5/finetune_ner.py --bench-seconds 120                       # throughput
  nohup python3 scripts/train/e5/finetune_ner.py --epochs 2 --minutes 48 > .work/e5/ner_stdout.log 2>&1 &
  nice -n 10 python3 scripts/train/e5/finetune_ner.py --resume ...      # continue after an interruption
"""
import argparse, gzip, json, math, os, random, shutil, time
import numpy as np
import torch
from seqeval.metrics import f1_score, classification_report
from seqeval.scheme import IOB2
from transformers import AutoTokenizer, AutoModelForTokenClassification
from norne import read_bio

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-GPE_LOC", "I-GPE_LOC", "B-GPE_ORG",
          "I-GPE_ORG", "B-PROD", "I-PROD", "B-EVT", "I-EVT", "B-DRV", "I-DRV", "B-MISC", "I-MISC"]
L2I = {l: i for i, l in enumerate(LABELS)}
D = "/work/shared/data/norne/bio"

ap = argparse.ArgumentParser()
ap.add_argument("--base", default=".work/e5/pruned-11.5k-L10")
ap.add_argument("--out", default=".work/e5/ner")
ap.add_argument("--export", default=".work/e5/ner-export")
ap.add_argument("--log", default=".work/e5/ner.log")
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--minutes", type=float, default=58, help="wall-clock budget for training+per-epoch eval")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--max-len", type=int, default=128)
ap.add_argument("--lr", type=float, default=5e-5)
ap.add_argument("--head-lr", type=float, default=1e-3)
ap.add_argument("--warmup", type=float, default=0.10)
ap.add_argument("--dropout", type=float, default=0.1)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--attn", default="eager", help="eager is ~6x faster than sdpa for bf16 training on this CPU")
ap.add_argument("--amp", type=int, default=None,
                help="bf16 autocast for training; default: on only when the CPU has avx512_bf16 or amx_bf16 "
                     "(without them PyTorch's bf16 matmuls fall back to a reference GEMM, ~10x slower than fp32)")
ap.add_argument("--context", type=int, default=0, help="pack a document's sentences into sequences of N pieces")
ap.add_argument("--context-break", type=float, default=0.15)
ap.add_argument("--export-max-length", type=int, default=512, help="model_max_length written to tokenizer_config")
ap.add_argument("--export-aggregation", default="average",
                help="norsk_aggregation written to config.json (how norsk groups pieces into words by default)")
ap.add_argument("--export-decoding", default="constrained",
                help="norsk_decoding written to config.json (argmax, or constrained: the best valid IOB2 sequence)")
ap.add_argument("--resume", action="store_true")
ap.add_argument("--bench-seconds", type=float, default=0)
ap.add_argument("--export-only", action="store_true")
ap.add_argument("--limit", type=int, default=None, help="tiny test: N sentences per file")
a = ap.parse_args()

if a.amp is None:
    flags = open("/proc/cpuinfo").read()
    a.amp = int("avx512_bf16" in flags or "amx_bf16" in flags)
torch.set_num_threads(a.threads)
torch.set_num_interop_threads(1)
random.seed(a.seed); np.random.seed(a.seed); torch.manual_seed(a.seed)
os.makedirs(a.out, exist_ok=True); os.makedirs(os.path.dirname(a.log), exist_ok=True)
LOG = open(a.log, "a", buffering=1)


def log(msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
    print(line, flush=True); LOG.write(line + "\n"); LOG.flush()


tok = AutoTokenizer.from_pretrained(a.base)


def encode(sents, max_len, specials=True):
    out = []
    enc = tok([s[0] for s in sents], is_split_into_words=True, truncation=True, max_length=max_len,
              add_special_tokens=specials)
    for i, (toks, tags) in enumerate(sents):
        wids, ids = enc.word_ids(i), enc["input_ids"][i]
        labels, first, prev = [], [None] * len(toks), None
        for j, w in enumerate(wids):
            if w is None:
                labels.append(-100)
            elif w != prev:
                labels.append(L2I[tags[w]]); first[w] = j
            else:
                t = tags[w]
                labels.append(L2I["I-" + t[2:]] if t.startswith("B-") else L2I[t])
            prev = w
        out.append({"ids": ids, "labels": labels, "first": first, "tags": tags})
    return out


def ndt_docs(path):
    """The `# ndt_doc` of every sentence of an NDT-format train conllu file, in order."""
    return [l.split("=", 1)[1].strip() for l in gzip.open(path, "rt", encoding="utf-8") if l.startswith("# ndt_doc")]


def pack(sents, docs, limit, brk, seed):
    """Sequences of consecutive sentences of one document, up to `limit` pieces with [CLS]/[SEP]."""
    rng = random.Random(seed)
    out, cur, n = [], [], 2
    for i, x in enumerate(sents):
        k = len(x["ids"])
        if cur and (docs[i] != docs[cur[-1]] or n + k > limit or (seed is not None and rng.random() < brk)):
            out.append(cur); cur, n = [], 2
        cur.append(i); n += k
    if cur:
        out.append(cur)
    return out


def join(sents, group):
    """One sequence from the sentences `group` (encoded without specials); `first` offsets shifted."""
    ids, labels, first, tags = [tok.cls_token_id], [-100], [], []
    for i in group:
        x = sents[i]
        first += [None if f is None else f + len(ids) for f in x["first"]]
        ids += x["ids"]; labels += x["labels"]; tags += x["tags"]
    return {"ids": ids + [tok.sep_token_id], "labels": labels + [-100], "first": first, "tags": tags, "n": len(group)}


def collate(items):
    n = max(len(x["ids"]) for x in items)
    ids = torch.full((len(items), n), tok.pad_token_id)
    lab = torch.full((len(items), n), -100)
    att = torch.zeros((len(items), n), dtype=torch.long)
    for i, x in enumerate(items):
        k = len(x["ids"])
        ids[i, :k] = torch.tensor(x["ids"]); lab[i, :k] = torch.tensor(x["labels"]); att[i, :k] = 1
    return ids, att, lab


def batches(data, bs, shuffle, seed=None):
    idx = list(range(len(data)))
    if shuffle:
        rng = random.Random(seed)
        rng.shuffle(idx)
        chunks = [sorted(idx[i:i + bs * 50], key=lambda j: len(data[j]["ids"])) for i in range(0, len(idx), bs * 50)]
        bl = [c[i:i + bs] for c in chunks for i in range(0, len(c), bs)]
        rng.shuffle(bl)
        return bl
    idx.sort(key=lambda j: len(data[j]["ids"]))
    return [idx[i:i + bs] for i in range(0, len(idx), bs)]


@torch.no_grad()
def evaluate(model, data):
    was = model.training
    model.eval()
    gold, pred = [], []
    for b in batches(data, 64, False):
        items = [data[j] for j in b]
        ids, att, _ = collate(items)
        am = model(input_ids=ids, attention_mask=att).logits.argmax(-1)
        for i, x in enumerate(items):
            p = [LABELS[int(am[i, j])] if j is not None else "O" for j in x["first"]]
            if "bounds" in x:  # a packed chunk: score each sentence on its own, as a sentence file is scored
                for lo, hi in x["bounds"]:
                    pred.append(p[lo:hi]); gold.append(x["tags"][lo:hi])
            else:
                pred.append(p); gold.append(x["tags"])
    model.train(was)
    rep = classification_report(gold, pred, output_dict=True, zero_division=0)
    return {"f1": f1_score(gold, pred), "f1_strict": f1_score(gold, pred, mode="strict", scheme=IOB2),
            "per_type": {k: round(v["f1-score"], 4) for k, v in rep.items() if "avg" not in k}}


def export(best_dir, out_dir):
    m = AutoModelForTokenClassification.from_pretrained(best_dir, dtype=torch.float32)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    m.half().save_pretrained(out_dir)
    cfg = json.load(open(os.path.join(out_dir, "config.json")))
    cfg.update(dtype="float32", architectures=["BertForTokenClassification"],
               id2label={str(i): l for i, l in enumerate(LABELS)}, label2id=L2I,
               hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    if a.context:  # norsk then tags each sentence with its neighbours by default
        cfg["norsk_sentence_context"] = True
    cfg["norsk_aggregation"], cfg["norsk_decoding"] = a.export_aggregation, a.export_decoding
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=2)
    for f in ("tokenizer.json", "special_tokens_map.json", "NOTICE.e5"):
        if os.path.exists(os.path.join(a.base, f)):
            shutil.copyfile(os.path.join(a.base, f), os.path.join(out_dir, f))
    tc = json.load(open(os.path.join(a.base, "tokenizer_config.json")))
    tc["model_max_length"] = a.export_max_length
    json.dump(tc, open(os.path.join(out_dir, "tokenizer_config.json"), "w"), indent=2)
    for f in os.listdir(out_dir):
        os.chmod(os.path.join(out_dir, f), 0o644)
    # reload exactly as a user would and check it agrees with the best fp32 model
    t2 = AutoTokenizer.from_pretrained(out_dir)
    m2 = AutoModelForTokenClassification.from_pretrained(out_dir)
    assert t2.model_max_length == a.export_max_length and m2.dtype == torch.float32 and m2.config.id2label[1] == "B-PER"
    log(f"exported {out_dir}: params={sum(p.numel() for p in m2.parameters())/1e6:.2f}M storage=fp16 "
        f"files={ {f: os.path.getsize(os.path.join(out_dir, f)) for f in sorted(os.listdir(out_dir))} }")


BEST, CKPT = os.path.join(a.out, "best"), os.path.join(a.out, "ckpt")
if a.export_only:
    export(BEST, a.export); raise SystemExit

if a.context:
    ctx = a.context - 2
    nob, nno = read_bio(f"{D}/nob_train.tsv.gz")[: a.limit], read_bio(f"{D}/nno_train.tsv.gz")[: a.limit]
    docs = ndt_docs(f"{D}/../no_bokmaal-ndt-train.conllu.gz")[: len(nob)] + \
        ["nn:" + d for d in ndt_docs(f"{D}/../no_nynorsk-ndt-train.conllu.gz")[: len(nno)]]
    sents = encode(nob, ctx, False) + encode(nno, ctx, False)
    assert len(docs) == len(sents), (len(docs), len(sents))
    dev_sents = encode(read_bio(f"{D}/nob_dev.tsv.gz")[: a.limit], 510, False)
    dev = []
    for g in pack(dev_sents, [0] * len(dev_sents), a.context, 0.0, None):
        x = join(dev_sents, g)
        lens = [len(dev_sents[i]["tags"]) for i in g]
        x["bounds"] = [(sum(lens[:k]), sum(lens[:k + 1])) for k in range(len(g))]
        dev.append(x)

    def epoch_data(ep):
        return [join(sents, g) for g in pack(sents, docs, a.context, a.context_break, a.seed * 1000 + ep)]
    train = epoch_data(0)
else:
    train = encode(read_bio(f"{D}/nob_train.tsv.gz")[: a.limit], a.max_len) + encode(read_bio(f"{D}/nno_train.tsv.gz")[: a.limit], a.max_len)
    dev = encode(read_bio(f"{D}/nob_dev.tsv.gz")[: a.limit], 512)
npieces = sum(len(x["ids"]) for x in train)
nomiss = sum(x is None for s in dev for x in s["first"])
log(f"NER data (context {a.context}): train={len(train)} sequences / {npieces} pieces (nob+nno, max_len {a.max_len}), nob dev={len(dev)} "
    f"(dev words without a piece: {nomiss}); base={a.base}")

model = AutoModelForTokenClassification.from_pretrained(
    a.base, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=L2I,
    hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout, attn_implementation=a.attn)
named = list(model.named_parameters())
head = [p for n, p in named if n.startswith("classifier")]
enc_decay = [p for n, p in named if not n.startswith("classifier") and p.ndim >= 2 and "LayerNorm" not in n]
enc_nodecay = [p for n, p in named if not n.startswith("classifier") and (p.ndim < 2 or "LayerNorm" in n)]
opt = torch.optim.AdamW([{"params": enc_decay, "lr": a.lr, "weight_decay": 0.01, "base": a.lr},
                         {"params": enc_nodecay, "lr": a.lr, "weight_decay": 0.0, "base": a.lr},
                         {"params": head, "lr": a.head_lr, "weight_decay": 0.0, "base": a.head_lr}])
steps_per_epoch = math.ceil(len(train) / a.batch)
total = steps_per_epoch * a.epochs
budget = a.minutes * 60
state = {"epoch": 0, "step": 0, "elapsed": 0.0, "best": -1.0, "hist": []}
if a.resume and os.path.exists(os.path.join(CKPT, "state.json")):
    state = json.load(open(os.path.join(CKPT, "state.json")))
    ck = torch.load(os.path.join(CKPT, "train_state.pt"), weights_only=False)
    model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); torch.set_rng_state(ck["torch_rng"])
    log(f"resumed from {CKPT}: epoch {state['epoch']} step {state['step']} elapsed {state['elapsed']/60:.1f} min")


def train_step(b):
    ids, att, lab = collate([train[j] for j in b])
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bool(a.amp)):
        logits = model(input_ids=ids, attention_mask=att).logits
    loss = torch.nn.functional.cross_entropy(logits.float().view(-1, len(LABELS)), lab.view(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item(), int(att.sum())


model.train()
if a.bench_seconds:
    bl = batches(train, a.batch, True, a.seed)
    for g in opt.param_groups: g["lr"] = g["base"] * 0.1
    for b in bl[:3]: train_step(b)  # warm-up (oneDNN kernels)
    t0, ns, nt, k = time.time(), 0, 0, 3
    while time.time() - t0 < a.bench_seconds:
        _, n = train_step(bl[k]); ns += len(bl[k]); nt += n; k += 1
    dt = time.time() - t0
    t1 = time.time(); r = evaluate(model, dev[:640]); de = (time.time() - t1) / 640 * len(dev)
    log(f"BENCH amp={a.amp} batch={a.batch} threads={a.threads}: {k-3} steps in {dt:.0f}s = {ns/dt:.1f} sent/s, {nt/dt:.0f} pieces/s "
        f"(sampled batches: {nt/ns:.1f} pieces/sent vs corpus {npieces/len(train):.1f}); projected epoch "
        f"({len(train)} sents) = {len(train)/(ns/dt)/60:.1f} min by sentences, {npieces/(nt/dt)/60:.1f} min by pieces; "
        f"nob dev eval ~ {de/60:.1f} min")
    raise SystemExit

t_start = time.time() - state["elapsed"]


def progress():
    return max((time.time() - t_start) / budget, state["step"] / total)


done = False
for ep in range(state["epoch"] + 1, a.epochs + 1):
    tl, tn, t0 = 0.0, 0, time.time()
    if a.context:
        train = epoch_data(ep)
    for b in batches(train, a.batch, True, a.seed * 1000 + ep):
        p = progress()
        if p >= 1.0:
            done = True; break
        mult = p / a.warmup if p < a.warmup else max(0.0, (1 - p) / (1 - a.warmup))
        for g in opt.param_groups:
            g["lr"] = g["base"] * mult
        loss, _ = train_step(b)
        state["step"] += 1; tl += loss; tn += 1
        if state["step"] % 100 == 0:
            log(f"ep={ep} step={state['step']}/{total} loss={tl/tn:.4f} lr_mult={mult:.3f} progress={p:.3f} "
                f"min={(time.time()-t_start)/60:.1f}")
            tl, tn = 0.0, 0
    log(f"epoch {ep} {'(cut by time limit) ' if done else ''}took {(time.time()-t0)/60:.1f} min")
    t1 = time.time()
    r = evaluate(model, dev)
    log(f"EVAL epoch {ep} step={state['step']} nob_dev_F1={r['f1']:.4f} (strict {r['f1_strict']:.4f}) "
        f"eval {(time.time()-t1)/60:.1f} min, total {(time.time()-t_start)/60:.1f} min")
    log(f"  nob per-type F1: {json.dumps(r['per_type'])}")
    state["hist"].append({"epoch": ep, "step": state["step"], "cut": done, "nob_dev": r,
                          "minutes": round((time.time() - t_start) / 60, 2)})
    if r["f1"] > state["best"]:
        state["best"] = r["f1"]
        model.save_pretrained(BEST); tok.save_pretrained(BEST)
        json.dump({"epoch": ep, "nob_dev": r}, open(os.path.join(BEST, "dev_scores.json"), "w"), indent=1)
        log(f"  new best (nob dev F1 {r['f1']:.4f}) saved to {BEST}")
    state["epoch"] = ep; state["elapsed"] = time.time() - t_start
    os.makedirs(CKPT, exist_ok=True)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "torch_rng": torch.get_rng_state()},
               os.path.join(CKPT, "train_state.pt.tmp"))
    os.replace(os.path.join(CKPT, "train_state.pt.tmp"), os.path.join(CKPT, "train_state.pt"))
    json.dump(state, open(os.path.join(CKPT, "state.json"), "w"), indent=1)
    log(f"  checkpoint saved to {CKPT}")
    if done:
        break
json.dump(state["hist"], open(os.path.join(a.out, "history.json"), "w"), indent=1)
log(f"training finished: best nob dev F1 {state['best']:.4f}, {(time.time()-t_start)/60:.1f} min")
export(BEST, a.export)
open(os.path.join(a.out, "DONE"), "w").write(json.dumps({"best": state["best"]}) + "\n")
