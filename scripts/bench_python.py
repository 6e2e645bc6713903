#!/usr/bin/env python3
"""Records/s of the Python package against the CLI on the same texts, and of
norsk.archive on a local Dask cluster with 1 and 2 workers.

Run with the virtual environment that scripts/python.sh made (it needs the
package, Dask and the release CLI):

    target/python-venv/bin/python scripts/bench_python.py --records 2000 --rounds 3

Texts: the first --records sentences of Talk of Norway (Bokmål) from
../shared/data. Every figure is a whole process (start, model load, reading,
tagging, writing JSONL), the CLI and the package alternating round by round;
the median round is reported.
"""

import argparse
import gzip
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SENTENCES = ROOT.parent / "shared" / "data" / "talk_of_norway_sentences" / "sentences_talk_of_norway_cleaned_10k_nob.txt.gz"

PACKAGE = """
import json, sys, norsk
task, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
records = [json.loads(line) for line in open(path, encoding="utf-8")]
pipe = norsk.pipeline("ner") if task == "ner" else norsk.pipeline("text-classification", top_k=None)
with open(out, "w", encoding="utf-8") as sink:
    for i in range(0, len(records), 64):  # the CLI's chunk of texts
        chunk = records[i:i + 64]
        results = pipe([r["text"] for r in chunk])
        key = "entities" if task == "ner" else "labels"
        for r, result in zip(chunk, results):
            sink.write(json.dumps({"id": r["id"], key: result}, ensure_ascii=False) + "\\n")
"""

CLUSTER = """
import sys, time
from dask.distributed import Client, LocalCluster
from norsk import archive
task, parts, out, workers, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                  env={"RAYON_NUM_THREADS": threads}) as cluster, Client(cluster) as client:
    client.run(lambda: archive._pipeline(task, None, ()) and None)  # load the model on each worker first
    start = time.perf_counter()
    summary = archive.run(task, parts, out, client=client)
    print(summary.records / (time.perf_counter() - start))
"""


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--task", choices=["ner", "classify"], default="ner")
    parser.add_argument("--cli", default=str(ROOT / "target" / "release" / "norsk"))
    args = parser.parse_args()

    with gzip.open(SENTENCES, "rt", encoding="utf-8") as f:
        texts = [line.strip() for line, _ in zip(f, range(args.records)) if line.strip()]
    work = pathlib.Path(tempfile.mkdtemp(prefix="norsk-bench-"))
    records = work / "in.jsonl"
    records.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    parts = work / "parts"
    parts.mkdir()
    for p in range(8):
        (parts / f"part-{p}.jsonl").write_text(
            "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts) if i % 8 == p), encoding="utf-8")

    cli, package = [], []
    for _ in range(args.rounds):
        cli.append(timed([args.cli, args.task, "--input", str(records), "--format", "jsonl"]))
        package.append(timed([sys.executable, "-c", PACKAGE, args.task, str(records), str(work / "py.jsonl")]))
    n = len(texts)
    cli_rate, py_rate = n / statistics.median(cli), n / statistics.median(package)
    print(f"{args.task}, {n} sentences, {os.cpu_count()} cores, median of {args.rounds} whole processes")
    print(f"  CLI     {cli_rate:8.1f} records/s  ({', '.join(f'{t:.2f}' for t in cli)} s)")
    print(f"  Python  {py_rate:8.1f} records/s  ({', '.join(f'{t:.2f}' for t in package)} s)  binding cost {100 * (1 - py_rate / cli_rate):+.1f} %")
    for workers, threads in ((1, "2"), (2, "1"), (2, "2")):
        rates = []
        for r in range(args.rounds):
            out = work / f"out-{workers}-{threads}-{r}"
            done = subprocess.run([sys.executable, "-c", CLUSTER, args.task, str(parts), str(out), str(workers), threads],
                                  check=True, capture_output=True, text=True)
            rates.append(float(done.stdout.strip().splitlines()[-1]))
        print(f"  Dask LocalCluster, {workers} worker(s) x {threads} Rust thread(s): {statistics.median(rates):8.1f} records/s "
              f"(model loaded before timing)")


if __name__ == "__main__":
    main()
