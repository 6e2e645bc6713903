#!/usr/bin/env bash
# OPTIONAL continuation (not part of the shipped result): more MLM on the same encoder, then NER again, all in .work/.
# It never touches models/; compare .work/ner2/export_eval.json with .work/ner/export_eval.json and, if better,
# copy .work/ner2/export/* (except README.md) to models/norsk-bert-ner/.
#   nohup setsid nice -n 19 bash scripts/train/continue.sh > .work/logs/continue.out 2>&1 &
# 1. pretrain.py resumes the finished 20-min checkpoint with a 35-min cumulative budget (LR picks up at ~3.2e-4 and
#    decays linearly to 0 over the extra 15 training-minutes), encoder -> .work/encoder2
# 2. finetune_ner.py as in run_all.sh but --minutes ${NER2_MIN:-17}, out .work/ner2, export .work/ner2/export
set -euo pipefail
cd "$(dirname "$0")/../.."
PT2_MIN=${PT2_MIN:-35}; NER2_MIN=${NER2_MIN:-17}
mkdir -p .work/pretrain2
[ -f .work/pretrain2/ckpt.pt ] || cp .work/pretrain/ckpt.pt .work/pretrain2/ckpt.pt
[ -e .work/pretrain2/tokens_20000_all.npy ] || ln -s ../pretrain/tokens_20000_all.npy .work/pretrain2/tokens_20000_all.npy
[ -f .work/pretrain2/DONE ] || nice -n 19 python scripts/train/pretrain.py --hidden 256 --layers 4 --batch 32 --lr 7e-4 \
    --minutes "$PT2_MIN" --seed 42 --out .work/pretrain2 --encoder-out .work/encoder2 --log .work/logs/pretrain2.log > .work/logs/pretrain2.out 2>&1
[ -f .work/ner2/DONE ] || nice -n 19 python scripts/train/finetune_ner.py --encoder .work/encoder2 --nno 1 --minutes "$NER2_MIN" \
    --seed 42 --out .work/ner2 --export .work/ner2/export --log .work/logs/ner2.log > .work/logs/ner2.out 2>&1
cat .work/ner2/export_eval.json
