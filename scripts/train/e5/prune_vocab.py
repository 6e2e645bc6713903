#!/usr/bin/env python3
"""Stage 2: prune the 250k XLM-R Unigram vocabulary of .work/e5/base to the pieces used by Norwegian text.

Counting corpus (TRAIN splits only; dev/test are never read):
  NorNE nob_train + nno_train (weight --norne-weight, the target domain), a seeded sample of NoReC train reviews,
  Talk of Norway 10k nob + 10k nno sentences (the labelled nob/nno CSV is not used), NPK nb_nn_train (both sides),
  a seeded sample of laws_chunks with split == "train".
Keeps: the 5 specials, every single-character piece seen in the corpus tokenisation, the single-character piece of
every character occurring in the normalised corpus, then the most frequent remaining pieces until N in total.
Coverage = share of corpus words (Metaspace pre-tokens, frequency-weighted) whose piece sequence is unchanged
(exact: the pruned Unigram is a subset, so a word is unchanged iff all of its original pieces are kept). It is reported
on the counting corpus and on a disjoint held-out sample of NoReC *train* reviews.

Writes OUT/ (config.json, model.safetensors fp32, tokenizer.json [same normalizer/pre-tokenizer/decoder, Unigram
vocab remapped with original scores, post-processor/added-token ids remapped], tokenizer_config.json,
special_tokens_map.json, prune_report.json), and checks hidden states of the pruned model vs the original.
--layers K keeps only the bottom K transformer layers (drop the top 12-K).
--fp16 stores model.safetensors in fp16 after the checks (which run on fp32) and checks the fp16 copy against them;
--sentence-transformers adds the files sentence-transformers reads (modules.json, 1_Pooling/config.json with mean
pooling, a 2_Normalize module, config_sentence_transformers.json with e5's "query: " / "passage: " prompts): an
embedding model, as e5 itself ships.

Usage: nice -n 10 python3 scripts/train/e5/prune_vocab.py --n 8000 --layers 12 --out .work/e5/pruned-8k
       nice -n 10 python3 scripts/train/e5/prune_vocab.py --n 11500 --layers 12 --fp16 --sentence-transformers \
           --out .work/e5/embed-11.5k-L12                            (the shipped models/norsk-e5-embed)
       (the counts are cached in .work/e5/piece_counts.json; --table prints coverage/size for several N and L)
"""
import argparse, collections, copy, gzip, json, lzma, os, random, sys, time
import numpy as np
from tokenizers import Tokenizer, models

ap = argparse.ArgumentParser()
ap.add_argument("--base", default=".work/e5/base")
ap.add_argument("--out", default=None)
ap.add_argument("--n", type=int, default=8000)
ap.add_argument("--layers", type=int, default=12)
ap.add_argument("--table", default="4000,6000,7200,8000,10000,11500,12000,16000")
ap.add_argument("--norec-reviews", type=int, default=3000)
ap.add_argument("--norec-heldout", type=int, default=500)
ap.add_argument("--laws-chunks", type=int, default=3000)
ap.add_argument("--norne-weight", type=int, default=2)
ap.add_argument("--budget-mb", type=float, default=45.0, help="fp16 model.safetensors budget, 1 MB = 1e6 bytes")
ap.add_argument("--num-labels", type=int, default=19)
ap.add_argument("--seed", type=int, default=13)
ap.add_argument("--cache", default=".work/e5/piece_counts.json")
ap.add_argument("--fp16", action="store_true", help="store the weights in fp16 (checked against fp32)")
ap.add_argument("--sentence-transformers", action="store_true",
                help="write the sentence-transformers files of an e5 embedding model (mean pooling, normalize, prompts)")
a = ap.parse_args()
D = "/work/shared/data"
rng = random.Random(a.seed)

tj = json.load(open(os.path.join(a.base, "tokenizer.json"), encoding="utf-8"))
VOCAB = tj["model"]["vocab"]
PIECE2ID = {p: i for i, (p, _) in enumerate(VOCAB)}
tok = Tokenizer.from_file(os.path.join(a.base, "tokenizer.json"))
SPECIAL_IDS = [0, 1, 2, 3, PIECE2ID["<mask>"]]  # <s> <pad> </s> <unk> <mask>


def norne_sents(path):
    out, cur = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line:
                if cur: out.append(" ".join(cur))
                cur = []
            else:
                cur.append(line.split("\t")[0])
    if cur: out.append(" ".join(cur))
    return out


def corpus():
    """yields (source, weight, text); the NoReC held-out sample is returned separately."""
    src = {}
    src["norne"] = norne_sents(f"{D}/norne/bio/nob_train.tsv.gz") + norne_sents(f"{D}/norne/bio/nno_train.tsv.gz")
    with lzma.open(f"{D}/norec/norec_train.jsonl.xz", "rt", encoding="utf-8") as f:
        norec = [json.loads(l)["text"] for l in f]
    idx = list(range(len(norec))); rng.shuffle(idx)
    src["norec"] = [norec[i] for i in idx[: a.norec_reviews]]
    heldout = [norec[i] for i in idx[a.norec_reviews: a.norec_reviews + a.norec_heldout]]
    ton = []
    for lang in ("nob", "nno"):
        with gzip.open(f"{D}/talk_of_norway_sentences/sentences_talk_of_norway_cleaned_10k_{lang}.txt.gz", "rt", encoding="utf-8") as f:
            ton += [l.strip() for l in f if l.strip()]
    src["talk_of_norway"] = ton
    with gzip.open(f"{D}/npk_nb_nn_parallel/nb_nn_train.tsv.gz", "rt", encoding="utf-8") as f:
        src["npk_nb_nn_train"] = [s for l in f for s in l.rstrip("\n").split("\t")]
    with lzma.open(f"{D}/norwegian_laws_ministry/laws_chunks.jsonl.xz", "rt", encoding="utf-8") as f:
        laws = [r["text"] for r in map(json.loads, f) if r["split"] == "train"]
    rng.shuffle(laws)
    src["laws_train"] = laws[: a.laws_chunks]
    return src, heldout


def word_counts(texts):
    """normalise + Metaspace pre-tokenise with the original pipeline; count word types."""
    c = collections.Counter()
    for t in texts:
        for line in t.split("\n"):
            if not line.strip():
                continue
            n = tok.normalizer.normalize_str(line)
            c.update(w for w, _ in tok.pre_tokenizer.pre_tokenize_str(n))
    return c


def load_counts():
    if os.path.exists(a.cache):
        return json.load(open(a.cache, encoding="utf-8"))
    t0 = time.time()
    src, heldout = corpus()
    words, stats = collections.Counter(), {}
    for name, texts in src.items():
        wc = word_counts(texts)
        w = a.norne_weight if name == "norne" else 1
        for k, v in wc.items():
            words[k] += v * w
        stats[name] = {"texts": len(texts), "words": sum(wc.values()), "weight": w}
        if name == "norne":
            norne_wc = wc
        print(f"  {name}: {stats[name]}", flush=True)
    held = word_counts(heldout)
    seg = {}
    for wtype in set(words) | set(held):  # (NorNE word types are a subset of words)
        seg[wtype] = [PIECE2ID[t.value] if t.value in PIECE2ID else 3 for t in tok.model.tokenize(wtype)]
    chars = sorted({ch for wtype in words for ch in wtype})
    res = {"stats": stats, "words": dict(words), "heldout": dict(held), "norne": dict(norne_wc), "seg": seg, "chars": chars,
           "heldout_words": sum(held.values())}
    os.makedirs(os.path.dirname(a.cache), exist_ok=True)
    json.dump(res, open(a.cache, "w", encoding="utf-8"))
    print(f"counted in {time.time()-t0:.0f}s", flush=True)
    return res


C = load_counts()
piece_freq = collections.Counter()
for w, f in C["words"].items():
    for i in C["seg"][w]:
        piece_freq[i] += f
total_pieces = sum(piece_freq.values())
single = {i for i in piece_freq if len(VOCAB[i][0]) == 1}
single |= {PIECE2ID[ch] for ch in C["chars"] if ch in PIECE2ID}
print(f"corpus: {sum(C['words'].values())} weighted words, {len(C['words'])} types, {total_pieces} pieces, "
      f"{len(piece_freq)} distinct pieces used, {len(single)} single-char pieces kept, "
      f"{len(C['chars'])} distinct chars; held-out NoReC-train words {C['heldout_words']}")


def select(n):
    keep = set(SPECIAL_IDS) | single
    for i, _ in piece_freq.most_common():
        if len(keep) >= n:
            break
        keep.add(i)
    mask_id = PIECE2ID["<mask>"]
    return sorted(keep - {mask_id}) + [mask_id]  # original order (specials 0..3 first), <mask> last


def coverage(keep, counts):
    ks = set(keep)
    tot = sum(counts.values())
    same = sum(f for w, f in counts.items() if all(i in ks for i in C["seg"][w]))
    return same / tot


def nparams(n, layers, H=384, FF=1536, P=512, T=2, labels=None):
    per_layer = 4 * (H * H + H) + 2 * H + (H * FF + FF) + (FF * H + H) + 2 * H
    return n * H + P * H + T * H + 2 * H + layers * per_layer + H * (labels or a.num_labels) + (labels or a.num_labels)


print(f"\n{'N':>6} {'layers':>6} {'cov(count corpus)':>18} {'cov(NorNE train)':>17} {'cov(held-out NoReC)':>20} {'piece-cov':>9} {'params':>10} {'fp16 MB':>8} {'fp16 MiB':>8} fits<={a.budget_mb}MB")
table = []
for n in [int(x) for x in a.table.split(",")]:
    keep = select(n)
    cw, ch, cn = coverage(keep, C["words"]), coverage(keep, C["heldout"]), coverage(keep, C["norne"])
    pc = sum(piece_freq[i] for i in keep) / total_pieces
    for L in (12, 11, 10):
        p = nparams(len(keep), L)
        mb = p * 2 / 1e6
        row = dict(n=len(keep), layers=L, coverage_words=round(cw, 5), coverage_norne_train=round(cn, 5), coverage_heldout_norec=round(ch, 5),
                   piece_coverage=round(pc, 5), params=p, fp16_mb=round(mb, 2), fp16_mib=round(p * 2 / 2**20, 2),
                   fits=mb <= a.budget_mb)
        table.append(row)
        print(f"{len(keep):>6} {L:>6} {cw:>18.4%} {cn:>17.4%} {ch:>20.4%} {pc:>9.4%} {p:>10,} {mb:>8.2f} {p*2/2**20:>8.2f} {mb <= a.budget_mb}")
if not a.out:
    sys.exit(0)

# ---------------- build the pruned model ----------------
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BertModel

keep = select(a.n)
N = len(keep)
old2new = {o: n for n, o in enumerate(keep)}
os.makedirs(a.out, exist_ok=True)
nj = copy.deepcopy(tj)
nj["model"]["vocab"] = [VOCAB[o] for o in keep]
nj["model"]["unk_id"] = old2new[tj["model"]["unk_id"]]
for t in nj["added_tokens"]:
    t["id"] = old2new[t["id"]]
pp = nj["post_processor"]
assert pp["type"] == "TemplateProcessing"
for k, v in pp["special_tokens"].items():
    v["ids"] = [old2new[i] for i in v["ids"]]
json.dump(nj, open(os.path.join(a.out, "tokenizer.json"), "w", encoding="utf-8"), ensure_ascii=False)

sd = load_file(os.path.join(a.base, "model.safetensors"))
sd["embeddings.word_embeddings.weight"] = sd["embeddings.word_embeddings.weight"][torch.tensor(keep)].clone()
for k in list(sd):
    if k.startswith("encoder.layer.") and int(k.split(".")[2]) >= a.layers:
        del sd[k]
save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(a.out, "model.safetensors"), metadata={"format": "pt"})
cfg = json.load(open(os.path.join(a.base, "config.json")))
cfg.update(vocab_size=N, num_hidden_layers=a.layers, pad_token_id=old2new[1], bos_token_id=old2new[0], eos_token_id=old2new[2])
json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
for f in ("tokenizer_config.json", "special_tokens_map.json"):
    d = json.load(open(os.path.join(a.base, f)))
    json.dump(d, open(os.path.join(a.out, f), "w"), indent=2)
if os.path.exists(os.path.join(a.base, "NOTICE.e5")):
    open(os.path.join(a.out, "NOTICE.e5"), "w").write(open(os.path.join(a.base, "NOTICE.e5")).read())

# ---------------- checks ----------------
torch.set_num_threads(2)
tok_o = AutoTokenizer.from_pretrained(a.base)
tok_p = AutoTokenizer.from_pretrained(a.out)
raw_p = Tokenizer.from_file(os.path.join(a.out, "tokenizer.json"))
assert (tok_p.cls_token_id, tok_p.pad_token_id, tok_p.sep_token_id, tok_p.unk_token_id, tok_p.mask_token_id) == (0, 1, 2, 3, N - 1)
m_o = BertModel.from_pretrained(a.base, add_pooling_layer=False).eval()
m_p = BertModel.from_pretrained(a.out, add_pooling_layer=False).eval()
SENTS = ["Jens Stoltenberg var statsminister i Norge og bodde i Oslo.",
         "Regjeringen la fram statsbudsjettet tirsdag, sier finansministeren.",
         "Eg har likevel vore nøye med å understreka at Senterpartiet tek avgjerda til etterretning.",
         "Rosenborg slo Molde 2-1 på Lerkendal i går.",
         "Filmen «Kon-Tiki» ble vist på NRK.",
         "Equinor ASA har hovedkontor i Stavanger, sier Åse Ødegård.",
         "Xiaomi-sjefen møtte Schwarzenegger i Gdańsk."]
checks = []
for s in SENTS:
    io, ip = tok_o(s)["input_ids"], tok_p(s)["input_ids"]
    assert ip == raw_p.encode(s).ids, "AutoTokenizer != tokenizer.json on pruned model"
    same = [old2new.get(i, -1) for i in io] == ip
    with torch.no_grad():
        ho = m_o(torch.tensor([io]), output_hidden_states=True).hidden_states[a.layers]
        hp = m_p(torch.tensor([ip])).last_hidden_state
    d = float((ho - hp).abs().max()) if same else None
    checks.append({"text": s, "tokenization_unchanged": same, "max_abs_diff_hidden": d,
                   "pruned_pieces": tok_p.convert_ids_to_tokens(ip)})
    print(f"unchanged={same} maxdiff={d} {tok_p.convert_ids_to_tokens(ip)}")
    if same:
        assert d < 1e-4, d

def mean_pooled(model, ids):
    """sentence-transformers' mean pooling over the attention mask, then L2 normalisation."""
    with torch.no_grad():
        h = model(torch.tensor([ids])).last_hidden_state[0].float()
    v = h.mean(0)
    return v / v.norm()


fp16_check = None
if a.fp16:
    path = os.path.join(a.out, "model.safetensors")
    ref = [mean_pooled(m_p, tok_p("passage: " + s)["input_ids"]) for s in SENTS]
    save_file({k: v.half().contiguous() for k, v in load_file(path).items()}, path, metadata={"format": "pt"})
    cfg["dtype"] = "float32"  # stored in fp16, computed in fp32 by loaders (as the NER export)
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    m_h = BertModel.from_pretrained(a.out, add_pooling_layer=False).eval()
    assert m_h.dtype == torch.float32, m_h.dtype
    cos = [float(r @ mean_pooled(m_h, tok_p("passage: " + s)["input_ids"])) for r, s in zip(ref, SENTS)]
    fp16_check = {"min_cosine_fp16_vs_fp32_mean_pooled": min(cos)}
    print(f"fp16 weights: cosine of mean-pooled embeddings to fp32 >= {min(cos):.6f}")
    assert min(cos) > 0.999, cos
if a.sentence_transformers:
    os.makedirs(os.path.join(a.out, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "2_Normalize"), exist_ok=True)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    pooling = {"word_embedding_dimension": cfg["hidden_size"], "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
               "pooling_mode_lasttoken": False, "include_prompt": True}
    st_config = {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
                 "similarity_fn_name": "cosine"}
    for name, obj in [("modules.json", modules), ("1_Pooling/config.json", pooling),
                      ("config_sentence_transformers.json", st_config),
                      ("sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})]:
        json.dump(obj, open(os.path.join(a.out, name), "w"), indent=2)
    # git keeps no empty folder; sentence-transformers' Normalize reads nothing from it.
    open(os.path.join(a.out, "2_Normalize", ".gitkeep"), "w").close()
size_fp16 = nparams(N, a.layers) * 2
rep = {"n": N, "layers": a.layers, "table": table, "counting_corpus": C["stats"], "heldout_norec_words": C["heldout_words"],
       "chosen": [r for r in table if r["n"] == N and r["layers"] == a.layers], "hidden_state_checks": checks,
       "expected_fp16_bytes_with_head": size_fp16, "fp16_check": fp16_check,
       "files": {f: os.path.getsize(os.path.join(a.out, f)) for f in sorted(os.listdir(a.out))
                 if os.path.isfile(os.path.join(a.out, f))}}
json.dump(rep, open(os.path.join(a.out, "prune_report.json"), "w"), indent=1, ensure_ascii=False)
print(f"wrote {a.out}: vocab {N}, layers {a.layers}, expected fp16 model size {size_fp16/1e6:.2f} MB", rep["files"])
