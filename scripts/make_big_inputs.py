#!/usr/bin/env python3
"""Writes the inputs of the resource-limit measurements (README, "Resource
limits"); they are large, so write them outside the repository:

    python3 scripts/make_big_inputs.py /tmp/norsk-big

text-100MB.txt: tests/data/artikkel.txt repeated to 100 MB (one text);
archive-1GB.jsonl: 1 GB of JSONL records {"id", "text"}, each one paragraph
of the article (about 100-1,000 characters); word-500k.txt: one
500,000-character word, and word-500k.jsonl: it as one JSONL record.
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1_000_000


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    article = (ROOT / "tests/data/artikkel.txt").read_text()
    with open(out / "text-100MB.txt", "w") as f:
        written = 0
        while written < 100 * MB:
            written += f.write(article + "\n")
    paragraphs = [p.strip() for p in article.split("\n") if p.strip()]
    with open(out / "archive-1GB.jsonl", "w") as f:
        written, i = 0, 0
        while written < 1000 * MB:
            line = json.dumps({"id": f"a{i}", "text": paragraphs[i % len(paragraphs)]},
                              ensure_ascii=False)
            written += len((line + "\n").encode())
            f.write(line + "\n")
            i += 1
    word = ("Tromsøbadet" * 50_000)[:500_000]
    (out / "word-500k.txt").write_text(word)
    (out / "word-500k.jsonl").write_text(json.dumps({"id": "ord", "text": word}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
