#!/usr/bin/env python3
"""MLM pretraining of a small BERT from scratch on CPU (bf16 autocast), resumable, wall-clock budgeted.

  * data: .work/corpus/train.txt tokenised once (cached as uint16 token stream, [SEP] between lines),
    packed into 128-token blocks ([CLS] 126 tokens [SEP]); block order reshuffled every epoch (seeded).
  * dynamic masking per step (seeded by step => identical after resume): 15% of tokens, 80/10/10.
    MLM logits are computed only at masked positions (saves ~85% of the output-layer compute).
  * AdamW (0.9, 0.98), wd 0.01, grad clip 1.0; LR schedule is a function of *training time used / budget*
    (linear warmup over the first 5% of the budget, then linear decay to 0 at the end), so the run ends exactly
    at the budget at LR 0 even when the shared CPU gets slower.
  * checkpoint every --ckpt-every seconds to OUT/ckpt.pt (model, optimizer, step, epoch, data position,
    training seconds used, RNG states); restarting the same command resumes automatically.
  * when the budget (--minutes, cumulative across restarts) is used: final checkpoint, encoder saved
    (BertForMaskedLM + tokenizer) to --encoder-out, and OUT/DONE written.
  * --probe "256x4,256x6,384x4" --probe-seconds 60: throughput probe only (tokens/s per size), logged.
Usage:
  python scripts/train/pretrain.py --probe 256x4,256x6,384x4 --probe-seconds 60
  python scripts/train/pretrain.py --hidden 256 --layers 4 --minutes 70 [--init-emb .work/w2v/emb_256.npy]
"""
import argparse, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default=".work/corpus/train.txt")
ap.add_argument("--tokenizer", default=".work/tokenizer")
ap.add_argument("--out", default=".work/pretrain")
ap.add_argument("--encoder-out", default=".work/encoder")
ap.add_argument("--log", default=".work/logs/pretrain.log")
ap.add_argument("--hidden", type=int, default=256)
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--seq", type=int, default=128)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--lr", type=float, default=6e-4)
ap.add_argument("--warmup", type=float, default=0.05, help="fraction of the time budget")
ap.add_argument("--minutes", type=float, default=70.0)
ap.add_argument("--ckpt-every", type=float, default=300.0, help="seconds")
ap.add_argument("--log-every", type=int, default=20)
ap.add_argument("--seed", type=int, default=42)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--no-bf16", action="store_true")
ap.add_argument("--max-lines", type=int, default=None, help="tiny test")
ap.add_argument("--init-emb", default=None, help="npy (vocab x hidden) from w2v_init.py to initialise word embeddings")
ap.add_argument("--probe", default=None)
ap.add_argument("--probe-seconds", type=float, default=60)
a = ap.parse_args()

torch.set_num_threads(a.threads)
torch.set_num_interop_threads(1)
os.makedirs(a.out, exist_ok=True)
os.makedirs(os.path.dirname(a.log), exist_ok=True)
LOG = open(a.log, "a", buffering=1)


def log(msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}"
    print(line, flush=True)
    LOG.write(line + "\n")
    LOG.flush()


tok = AutoTokenizer.from_pretrained(a.tokenizer)
V = len(tok)
CLS, SEP, MASK, PAD = tok.cls_token_id, tok.sep_token_id, tok.mask_token_id, tok.pad_token_id
NSPECIAL = 5  # ids 0..4 are specials; random replacement draws from [5, V)


def load_stream():
    cache = os.path.join(a.out, f"tokens_{V}_{a.max_lines or 'all'}.npy")
    if os.path.exists(cache):
        return np.load(cache)
    t0 = time.time()
    parts, buf = [], []

    def flush():
        enc = tok(buf, add_special_tokens=False)["input_ids"]
        for ids in enc:
            parts.append(np.asarray(ids + [SEP], dtype=np.uint16))
        buf.clear()

    with open(a.corpus, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if a.max_lines and i >= a.max_lines:
                break
            buf.append(line.rstrip("\n"))
            if len(buf) == 20000:
                flush()
    if buf:
        flush()
    stream = np.concatenate(parts)
    np.save(cache + ".tmp.npy", stream)
    os.replace(cache + ".tmp.npy", cache)
    log(f"tokenised corpus: {len(stream):,} tokens in {time.time()-t0:.0f}s")
    return stream


def make_model(hidden, layers, dropout=0.0):
    cfg = BertConfig(vocab_size=V, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=hidden // 64,
                     intermediate_size=4 * hidden, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                     hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout, pad_token_id=PAD)
    torch.manual_seed(a.seed)
    return BertForMaskedLM(cfg)


def mask_batch(ids, step):
    g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
    labels = ids.clone()
    special = (ids == CLS) | (ids == SEP) | (ids == PAD)
    prob = torch.rand(ids.shape, generator=g)
    m = (prob < 0.15) & ~special
    labels[~m] = -100
    r = torch.rand(ids.shape, generator=g)
    inp = ids.clone()
    inp[m & (r < 0.8)] = MASK
    rnd = m & (r >= 0.8) & (r < 0.9)
    inp[rnd] = torch.randint(NSPECIAL, V, (int(rnd.sum()),), generator=g)
    return inp, labels, m


def train_step(model, opt, ids, step, bf16):
    inp, labels, m = mask_batch(ids, step)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        h = model.bert(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
        logits = model.cls(h[m])
    loss = F.cross_entropy(logits.float(), labels[m])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    acc = (logits.argmax(-1) == labels[m]).float().mean().item()
    return loss.item(), acc


def make_opt(model):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if (p.ndim < 2 or "LayerNorm" in n) else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                             lr=a.lr, betas=(0.9, 0.98), eps=1e-6)


def lr_at(progress):
    if progress < a.warmup:
        return a.lr * max(progress / a.warmup, 0.01)
    return a.lr * max(0.0, (1 - progress) / (1 - a.warmup))


stream = load_stream()
L = a.seq - 2
nblocks = len(stream) // L
blocks = torch.from_numpy(stream[: nblocks * L].astype(np.int64).reshape(nblocks, L))
log(f"data: {len(stream):,} tokens -> {nblocks:,} blocks of {a.seq}; vocab {V}")


def get_batch(perm, pos):
    idx = perm[pos: pos + a.batch]
    b = blocks[idx]
    n = b.shape[0]
    return torch.cat([torch.full((n, 1), CLS), b, torch.full((n, 1), SEP)], dim=1)


if a.probe:
    perm = torch.from_numpy(np.random.default_rng(a.seed).permutation(nblocks))
    for spec in a.probe.split(","):
        bf16 = not spec.endswith("fp32")
        hid, lay = map(int, spec.replace("fp32", "").split("x"))
        model = make_model(hid, lay)
        opt = make_opt(model)
        nparam = sum(p.numel() for p in model.bert.encoder.parameters())
        for s in range(2):  # warm-up steps (not timed)
            train_step(model, opt, get_batch(perm, s * a.batch), s, bf16)
        t0, s, losses = time.time(), 2, []
        while time.time() - t0 < a.probe_seconds:
            losses.append(train_step(model, opt, get_batch(perm, s * a.batch), s, bf16)[0])
            s += 1
        dt = time.time() - t0
        tps = (s - 2) * a.batch * a.seq / dt
        log(f"PROBE hidden={hid} layers={lay} heads={hid//64} bf16={bf16} encoder_params={nparam/1e6:.2f}M "
            f"total_params={sum(p.numel() for p in model.parameters())/1e6:.2f}M steps={s-2} "
            f"tokens/s={tps:,.0f} -> tokens in {a.minutes:.0f} min = {tps*a.minutes*60/1e6:.1f}M "
            f"(= {tps*a.minutes*60/len(stream):.2f} epochs) last_loss={losses[-1]:.3f}")
        del model, opt
    sys.exit(0)

bf16 = not a.no_bf16
ckpt_path = os.path.join(a.out, "ckpt.pt")
model = make_model(a.hidden, a.layers)
opt = make_opt(model)
state = {"step": 0, "epoch": 0, "pos": 0, "train_seconds": 0.0, "tokens": 0}
if os.path.exists(ckpt_path):
    ck = torch.load(ckpt_path, weights_only=False)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    state = ck["state"]
    torch.set_rng_state(ck["rng_torch"]); np.random.set_state(ck["rng_np"]); random.setstate(ck["rng_py"])
    log(f"RESUME from {ckpt_path}: {state}")
else:
    random.seed(a.seed); np.random.seed(a.seed)
    if a.init_emb:
        emb = torch.from_numpy(np.load(a.init_emb))
        assert emb.shape == model.bert.embeddings.word_embeddings.weight.shape, emb.shape
        with torch.no_grad():
            model.bert.embeddings.word_embeddings.weight.copy_(emb)
        log(f"word embeddings initialised from {a.init_emb} (std {emb.std():.4f}); decoder tied: "
            f"{model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()}")
    log(f"START hidden={a.hidden} layers={a.layers} batch={a.batch}x{a.seq} lr={a.lr} budget={a.minutes}min "
        f"bf16={bf16} params={sum(p.numel() for p in model.parameters())/1e6:.2f}M")
json.dump(model.config.to_dict(), open(os.path.join(a.out, "config.json"), "w"), indent=1)


def save_ckpt():
    ck = {"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "args": vars(a),
          "rng_torch": torch.get_rng_state(), "rng_np": np.random.get_state(), "rng_py": random.getstate()}
    torch.save(ck, ckpt_path + ".tmp")
    os.replace(ckpt_path + ".tmp", ckpt_path)
    log(f"CHECKPOINT step={state['step']} epoch={state['epoch']} pos={state['pos']} "
        f"train_min={state['train_seconds']/60:.1f} tokens={state['tokens']/1e6:.1f}M")


budget = a.minutes * 60
import signal
STOP = []
signal.signal(signal.SIGTERM, lambda *_: STOP.append(1))  # kill -TERM <pid>: checkpoint, then exit (resumable)
model.train()
last_ckpt = time.time()
win_loss, win_acc, win_n, win_t0, win_tok = 0.0, 0.0, 0, time.time(), 0
perm = torch.from_numpy(np.random.default_rng(a.seed + state["epoch"]).permutation(nblocks))
while state["train_seconds"] < budget:
    if state["pos"] + a.batch > nblocks:
        state["epoch"] += 1
        state["pos"] = 0
        perm = torch.from_numpy(np.random.default_rng(a.seed + state["epoch"]).permutation(nblocks))
        log(f"EPOCH {state['epoch']} begins")
    t0 = time.time()
    lr = lr_at(state["train_seconds"] / budget)
    for gr in opt.param_groups:
        gr["lr"] = lr
    ids = get_batch(perm, state["pos"])
    loss, acc = train_step(model, opt, ids, state["step"], bf16)
    if not math.isfinite(loss):
        log(f"non-finite loss at step {state['step']}; stopping (resume restarts from last checkpoint)")
        sys.exit(1)
    state["step"] += 1
    state["pos"] += a.batch
    state["tokens"] += ids.numel()
    state["train_seconds"] += time.time() - t0
    win_loss += loss; win_acc += acc; win_n += 1; win_tok += ids.numel()
    if state["step"] % a.log_every == 0:
        dt = time.time() - win_t0
        log(f"step={state['step']} epoch={state['epoch']} loss={win_loss/win_n:.4f} mlm_acc={win_acc/win_n:.3f} "
            f"lr={lr:.2e} tok/s={win_tok/dt:,.0f} progress={state['train_seconds']/budget:.3f} "
            f"tokens={state['tokens']/1e6:.2f}M")
        win_loss, win_acc, win_n, win_t0, win_tok = 0.0, 0.0, 0, time.time(), 0
    if STOP:
        save_ckpt()
        log("SIGTERM: checkpoint saved, exiting (rerun the same command to resume)")
        sys.exit(143)
    if time.time() - last_ckpt > a.ckpt_every:
        save_ckpt()
        last_ckpt = time.time()
save_ckpt()
os.makedirs(a.encoder_out, exist_ok=True)
model.save_pretrained(a.encoder_out)
tok.save_pretrained(a.encoder_out)
open(os.path.join(a.out, "DONE"), "w").write(json.dumps(state) + "\n")
log(f"DONE pretraining: {state}; encoder saved to {a.encoder_out}")
