#!/usr/bin/env python3
"""Write tests/fixtures/embed_reference.json: sentence embeddings of the shipped models/norsk-e5-embed, computed
with transformers and pooled the sentence-transformers way (its Pooling module with pooling_mode_mean_tokens:
the last hidden state summed over the attention mask, divided by the mask's count clamped at 1e-9; then its
Normalize module: torch.nn.functional.normalize, p=2). The texts run as one padded batch, as
SentenceTransformer.encode runs them, each with its e5 prompt ("query: " or "passage: ") in front, and all fit
one 512-token window.

JSON layout: {model, pooling, normalize, cases: [{text, kind, prompt, input_ids, embedding}]}
(embedding: float32 values at full precision, nothing rounded).

Run from the repo root:   /work/venv-ref/bin/python scripts/make_embed_fixture.py
(needs torch and transformers; a few seconds on 2 CPU cores; deterministic: single-threaded torch).
"""

import json
import os
from pathlib import Path

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["HF_HUB_OFFLINE"] = "1"

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL = "models/norsk-e5-embed"
OUT = ROOT / "tests" / "fixtures" / "embed_reference.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
CASES = [
    ("query", "Hvem vant fotballkampen i går?"),
    ("query", "sport"),
    ("passage", "Rosenborg slo Molde 2–1 på Lerkendal i går kveld, og tabelltoppen er igjen åpen."),
    ("passage", "Regjeringen la fram statsbudsjettet tirsdag: oljepengebruken skal ned, sier finansministeren."),
    ("passage", "Eg har likevel vore nøye med å understreka at Senterpartiet tek avgjerda til etterretning."),
    ("passage", "Konserten\u00a0i Bergen ble utsolgt på 3\u00a0minutter 🎉🎶 – «helt vilt», sier arrangøren."),
    ("passage", "Familien 👨\u200d👩\u200d👧 flyttet til Tromsø. Ｆｕｌｌｗｉｄｔｈ tekst og ﬁne ligaturer."),
    ("passage", "Equinor ASA har hovedkontor i Stavanger.\nÅse Ødegård er ny direktør fra 1. januar."),
]


def main():
    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(ROOT / MODEL)
    model = AutoModel.from_pretrained(ROOT / MODEL, add_pooling_layer=False).eval()
    assert model.dtype == torch.float32, model.dtype
    texts = [PROMPTS[kind] + text for kind, text in CASES]
    batch = tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt")
    with torch.no_grad():
        token_embeddings = model(**batch).last_hidden_state
    # sentence_transformers.models.Pooling, pooling_mode_mean_tokens
    mask = batch["attention_mask"].unsqueeze(-1).expand(token_embeddings.size()).to(token_embeddings.dtype)
    summed = torch.sum(token_embeddings * mask, 1)
    counts = torch.clamp(mask.sum(1), min=1e-9)
    # sentence_transformers.models.Normalize
    embeddings = F.normalize(summed / counts, p=2, dim=1)
    cases = []
    for (kind, text), ids, row_mask, vector in zip(CASES, batch["input_ids"], batch["attention_mask"], embeddings):
        ids = ids[row_mask.bool()].tolist()
        assert len(ids) < 512, "every text must fit one window"
        cases.append({"text": text, "kind": kind, "prompt": PROMPTS[kind], "input_ids": ids,
                      "embedding": [float(v) for v in vector]})
    reference = {"model": MODEL, "pooling": "mean over the attention mask", "normalize": "L2", "cases": cases}
    OUT.write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} texts, dim {embeddings.shape[1]}")


if __name__ == "__main__":
    main()
