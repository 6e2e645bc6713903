#!/usr/bin/env python3
"""Train a CASED WordPiece vocabulary on .work/corpus/train.txt and save it as a BERT fast tokenizer.

Vocabulary size: 20,000 (default).  Why: with hidden size 256 the word-embedding matrix is V*256 parameters,
i.e. 5.1M at 20k -- already more than the whole 4-layer encoder (~3.2M).  A 32k vocab would push the
embedding to 8.2M and the NER model over the ~28 MB size budget (even in fp16 with a wider encoder), and it
also makes the MLM output layer (V*H per masked token) a large share of the CPU compute.  16k fragments Norwegian compounds more
(longer sequences, weaker word pieces); 20k is the compromise.  Cased (do_lower_case=False, no accent stripping)
because capitalisation is the strongest NER cue.
Usage: python scripts/train/tokenizer.py [--corpus .work/corpus/train.txt] [--out .work/tokenizer] [--vocab 20000]
"""
import argparse, os
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, decoders, trainers, processors
from transformers import BertTokenizerFast

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default=".work/corpus/train.txt")
ap.add_argument("--out", default=".work/tokenizer")
ap.add_argument("--vocab", type=int, default=20000)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)

special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=False)
tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
tok.decoder = decoders.WordPiece(prefix="##")
trainer = trainers.WordPieceTrainer(vocab_size=a.vocab, min_frequency=3, special_tokens=special,
                                    limit_alphabet=300, continuing_subword_prefix="##")
tok.train([a.corpus], trainer)
cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                   special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
# vocab.txt in id order
vocab = tok.get_vocab()
with open(os.path.join(a.out, "vocab.txt"), "w", encoding="utf-8") as f:
    for t, _ in sorted(vocab.items(), key=lambda x: x[1]):
        f.write(t + "\n")
hf = BertTokenizerFast(tokenizer_object=tok, vocab=os.path.join(a.out, "vocab.txt"), do_lower_case=False,
                       strip_accents=False, model_max_length=512)
hf.save_pretrained(a.out)
print("vocab", len(vocab))
from transformers import AutoTokenizer
t2 = AutoTokenizer.from_pretrained(a.out)
s = "Statsminister Jonas Gahr Støre besøkte Trondheim og NRK på tirsdag. Høgre vil ha fleire lærarar i Noreg."
print(t2.tokenize(s))
print(t2(s)["input_ids"][:8], t2.do_lower_case if hasattr(t2, "do_lower_case") else None)
