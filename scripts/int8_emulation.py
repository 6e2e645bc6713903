#!/usr/bin/env python3
"""Emulates norsk's int8 products on the shipped NER model in PyTorch (fake quantization) to find out, before
writing kernels, how the feed-forward output layer (`ffn-out`) can be quantized without losing NorNE F1.

norsk's int8 (crates/norsk-model/src/quantized.rs): weights per output row, symmetric, 7 bits; activations per
row (token), asymmetric u8; `ffn-out` kept in f32. Each argument is one treatment of `ffn-out`, scored on NorNE
Bokmål dev (entity F1, seqeval default, words by their first piece):

  f32            ffn-out in f32, everything else int8 (norsk today)
  int8           ffn-out int8 like the rest
  outlier:T      input columns whose |max| over the batch exceeds T in f32, the rest int8 (LLM.int8()-style)
  smooth:A       SmoothQuant: per input column s = max|x|^A / max|w|^(1-A), calibrated on 512 NorNE *train*
                 sentences; x/s and w*s quantized

  python3 scripts/int8_emulation.py f32 int8 outlier:2 smooth:0.5      (needs torch, transformers, seqeval)
"""
import os, sys, time
import torch
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "train", "e5"))
from norne import read_bio
from seqeval.metrics import f1_score
from transformers import AutoModelForTokenClassification, AutoTokenizer
torch.set_num_threads(2)
M = os.path.join(HERE, "..", "models", "norsk-bert-ner")
DATA = os.path.join(HERE, "..", "..", "shared", "data", "norne", "bio")
tok = AutoTokenizer.from_pretrained(M)
model = AutoModelForTokenClassification.from_pretrained(M, attn_implementation="eager", dtype=torch.float32).eval()
id2label = model.config.id2label
sents = read_bio(os.path.join(DATA, "nob_dev.tsv.gz"))
gold = [s[1] for s in sents]

def q_weight(w):  # per output row, symmetric, 7 bits
    s = w.abs().amax(1, keepdim=True).clamp_min(1e-12) / 63.0
    return (w / s).round().clamp(-63, 63) * s

def q_act(x):  # per row (token), asymmetric u8, range includes 0
    lo = x.amin(-1, keepdim=True).clamp_max(0); hi = x.amax(-1, keepdim=True).clamp_min(0)
    s = ((hi - lo) / 255.0).clamp_min(1e-12); z = (-lo / s).round()
    return ((x / s).round() + z).clamp(0, 255).sub(z) * s

MODE = {"ffn": "f32", "tau": None, "smooth": None}
class QLinear(torch.nn.Module):
    def __init__(self, lin, kind):
        super().__init__(); self.lin = lin; self.kind = kind
        self.wq = q_weight(lin.weight.data.clone())
    def forward(self, x):
        if self.kind == "ffn-out":
            m = MODE["ffn"]
            if m == "f32": return self.lin(x)
            w = self.lin.weight
            if m == "outlier":
                col = x.abs().flatten(0, -2).amax(0)
                out = col > MODE["tau"]
                MODE.setdefault("frac", []).append(out.float().mean().item())
                xi = x.masked_fill(out, 0.0)
                y = torch.nn.functional.linear(q_act(xi), q_weight(w.masked_fill(out[None, :], 0.0)), self.lin.bias)
                return y + torch.nn.functional.linear(x[..., out], w[:, out])
            if m == "smooth":
                s = self.smooth
                return torch.nn.functional.linear(q_act(x / s), q_weight(w * s[None, :]), self.lin.bias)
            return torch.nn.functional.linear(q_act(x), self.wq, self.lin.bias)
        return torch.nn.functional.linear(q_act(x), self.wq, self.lin.bias)

for layer in model.bert.encoder.layer:
    a = layer.attention
    for name in ("query", "key", "value"):
        setattr(a.self, name, QLinear(getattr(a.self, name), "qkv"))
    a.output.dense = QLinear(a.output.dense, "attn-out")
    layer.intermediate.dense = QLinear(layer.intermediate.dense, "ffn-in")
    layer.output.dense = QLinear(layer.output.dense, "ffn-out")

@torch.no_grad()
def run(sents, bs=64):
    order = sorted(range(len(sents)), key=lambda i: len(sents[i][0]))
    pred = [None] * len(sents)
    for k in range(0, len(order), bs):
        idx = order[k:k + bs]
        enc = tok([sents[i][0] for i in idx], is_split_into_words=True, truncation=True, max_length=512, padding=True, return_tensors="pt")
        am = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits.argmax(-1)
        for r, i in enumerate(idx):
            first = {}
            for j, w in enumerate(enc.word_ids(r)):
                if w is not None and w not in first: first[w] = j
            pred[i] = [id2label[int(am[r, first[w]])] if w in first else "O" for w in range(len(sents[i][0]))]
    return pred

@torch.no_grad()
def calibrate(alpha):
    train = read_bio(os.path.join(DATA, "nob_train.tsv.gz"))[:512]
    stats = {}
    hooks = []
    for li, layer in enumerate(model.bert.encoder.layer):
        def hook(mod, inp, li=li):
            v = inp[0].abs().flatten(0, -2).amax(0)
            stats[li] = torch.maximum(stats.get(li, v), v)
        hooks.append(layer.output.dense.register_forward_pre_hook(hook))
    MODE["ffn"] = "f32"; run(train)
    for h in hooks: h.remove()
    for li, layer in enumerate(model.bert.encoder.layer):
        q = layer.output.dense
        wmax = q.lin.weight.abs().amax(0).clamp_min(1e-5)
        q.smooth = (stats[li].clamp_min(1e-5) ** alpha / wmax ** (1 - alpha)).clamp_min(1e-5)

for spec in sys.argv[1:]:
    if spec.startswith("outlier"):
        MODE["ffn"] = "outlier"; MODE["tau"] = float(spec.split(":")[1])
    elif spec.startswith("smooth"):
        calibrate(float(spec.split(":")[1])); MODE["ffn"] = "smooth"
    else:
        MODE["ffn"] = spec
    MODE["frac"] = []
    t = time.time(); f = f1_score(gold, run(sents))
    frac = sum(MODE["frac"]) / len(MODE["frac"]) if MODE["frac"] else 0
    print(f"{spec:16} nob dev F1 {f:.4f}  f32 columns {100*frac:.1f} %  ({time.time()-t:.0f}s)", flush=True)
