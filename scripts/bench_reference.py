#!/usr/bin/env python3
"""Reference CPU benchmark: the same BERT model on the same token ids through PyTorch and ONNX Runtime.

Purpose
    `norsk bench` measures the Rust/candle forward pass. Numbers alone say little; this script measures the
    identical model (same weights, same token ids, same batch/sequence shape, same thread count) through
    the engines people would otherwise use, so the Rust numbers can be read as ratios:

      torch-fp32   PyTorch eager, float32 weights and activations (the baseline every ratio is against)
      torch-bf16   PyTorch under torch.autocast("cpu", dtype=torch.bfloat16) (fp32 weights, bf16 matmuls)
      ort-fp32     ONNX Runtime CPUExecutionProvider on a torch.onnx.export (opset 17, dynamic batch/seq
                   axes) of the model, all graph optimisations on
      ort-int8     the same ONNX file through onnxruntime.quantization.quantize_dynamic (QInt8 weights,
                   dynamic per-tensor uint8 activations; by default this quantizes MatMul *and* Gather,
                   i.e. the embedding tables too)

    The ONNX export is made once per run in a temporary folder and checked against the torch output
    (max abs diff printed on stderr, at a different shape than the export shape so the dynamic axes are
    exercised too). With --norsk the Rust benchmark is run from here as well, interleaved with the
    Python backends, so all engines see the same machine state (other load, thermal state, page cache).

Usage (from the repo root)
    # tiny fixture, quick smoke test, ratio table
    python3 scripts/bench_reference.py --model tests/fixtures/tiny-ner --iters 5 --format table

    # the shipped NER model, JSON records on stdout
    python3 scripts/bench_reference.py --model models/norsk-bert-ner --batch-sizes 1,8 --seq-lens 128 \\
        --threads 2 --warmup 3 --iters 20 --format json > bench-ref.json

    # a BERT-base-shaped model (nb-bert-base config, random weights, seed 0), saved so Rust loads the
    # identical weights; tokenizer files copied from the shipped model
    nice -n 19 python3 scripts/bench_reference.py --base-shaped --save-model /tmp/base-shaped \\
        --tokenizer-from models/norsk-bert-ner --batch-sizes 8 --seq-lens 128 \\
        --backends torch-fp32,ort-int8 --warmup 1 --iters 3 --format table

    # with the Rust benchmark, once per shape, on the very same ids ({...} are filled in by this script)
    python3 scripts/bench_reference.py --model models/norsk-bert-ner --format table --norsk \\
        'target/release/norsk bench --model {model} --ids {ids} --batch-sizes {batch_size} \\
         --seq-lens {seq_len} --threads {threads} --warmup {warmup} --iters {iters} --format json'

    # or once per round, the Rust side picking its own shapes/ids (no {batch_size}/{seq_len}/{threads})
    python3 scripts/bench_reference.py --model models/norsk-bert-ner --format table \\
        --norsk 'target/release/norsk bench --model models/norsk-bert-ner --format json'

What the numbers mean
    One record per (engine, precision, batch_size, seq_len, threads):
      {"engine": "torch"|"onnxruntime"|"norsk", "task": "ner"|"classify"|"encoder",
       "precision": "f32"|"bf16"|"int8", "batch_size", "seq_len", "threads", "tokens_per_s",
       "sequences_per_s", "p50_ms", "p95_ms", "p99_ms", "peak_rss_mb", "iters"}
    * one iteration = one forward pass over one batch of batch_size rows of seq_len tokens (no tokenizer,
      no post-processing); p50/p95/p99_ms are percentiles of the per-batch wall-clock latency over `iters`
      timed iterations (after --warmup untimed ones)
    * tokens_per_s = batch_size * seq_len / mean latency; sequences_per_s = batch_size / mean latency.
      Padding positions (only with --ids rows shorter than seq_len) count as tokens.
    * peak_rss_mb = ru_maxrss of the worker process that ran that single configuration (a fresh
      `--worker` subprocess per configuration, so one backend's memory never pollutes another's). It
      includes the Python interpreter and the imported libraries (torch workers import torch and
      transformers; ONNX Runtime workers import only numpy and onnxruntime). For --norsk it is what the
      Rust side reports, or else the ru_maxrss of the norsk process (over all configurations it ran).
    * threads: torch.set_num_threads(T) + torch.set_num_interop_threads(1); ORT intra_op_num_threads=T,
      inter_op_num_threads=1, sequential execution; OMP_NUM_THREADS/MKL_NUM_THREADS=T in the worker.
    * The table's ratio is tokens/s divided by torch fp32 tokens/s of the same (batch, seq, threads).
    * With --rounds R > 1 every configuration is measured R times (backend order reversed every other
      round) and the best round (highest tokens/s) is kept: the least disturbed measurement.
    Numbers from a shared or busy machine are noisy; compare engines from the same run only.

Token ids
    Synthetic (default): deterministic (numpy seed --ids-seed, default 0) random ids in [1000, vocab_size)
    with [CLS] first and [SEP] last; attention_mask all ones, token_type_ids all zeros. [CLS]/[SEP] come
    from config.json (cls_token_id/sep_token_id), else from the model's vocab.txt, else 2/3. One matrix of
    max(batch) x max(seq) ids is drawn; the shape (B, S) uses its first B rows cut to S tokens with [SEP]
    put last, so smaller shapes are prefixes of bigger ones.
    --ids FILE: JSON, either [[id, ...], ...] or {"input_ids": [[...], ...]}. Rows are cycled to fill the
    batch, cut to seq_len (then [SEP] last, like tokenizer truncation) and, when shorter, padded with
    pad_token_id and attention_mask 0.
    Placeholders in --norsk: {model} {ids} {batch_size} {seq_len} {threads} {warmup} {iters} {seconds}.
    {ids} is a JSON list of rows (unpadded): the per-shape rows when the command is run per shape, else
    the full max(batch) x max(seq) matrix (or the --ids file as given).

Needs: python3 with torch, transformers>=5, numpy, onnx, onnxruntime, safetensors.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()

BACKENDS = {
    # name: (engine, precision)
    "torch-fp32": ("torch", "f32"),
    "torch-bf16": ("torch", "bf16"),
    "ort-fp32": ("onnxruntime", "f32"),
    "ort-int8": ("onnxruntime", "int8"),
}

TASKS = {
    "BertForTokenClassification": "ner",
    "BertForSequenceClassification": "classify",
    "BertModel": "encoder",
}

NORNE_LABELS = [
    "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-GPE_LOC", "I-GPE_LOC", "B-GPE_ORG",
    "I-GPE_ORG", "B-PROD", "I-PROD", "B-EVT", "I-EVT", "B-DRV", "I-DRV", "B-MISC", "I-MISC",
]

# nb-bert-base (NbAiLab/nb-bert-base) shape; 19 NorNE labels on top.
BASE_SHAPE = dict(
    vocab_size=119547, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
    intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
    hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12,
    initializer_range=0.02, pad_token_id=0,
)

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]

RECORD_KEYS = ["engine", "task", "precision", "batch_size", "seq_len", "threads", "tokens_per_s",
               "sequences_per_s", "p50_ms", "p95_ms", "p99_ms", "peak_rss_mb", "iters"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def int_list(text):
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def backend_list(text):
    names = [x.strip() for x in text.split(",") if x.strip()]
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {bad}; choose from {','.join(BACKENDS)}")
    return names


# --------------------------------------------------------------------------------------------------------
# model config helpers (no torch needed)


def read_config(model_dir):
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise SystemExit(f"bench_reference: no config.json in {model_dir}")
    return json.loads(path.read_text())


def task_of(config):
    archs = config.get("architectures") or ["BertModel"]
    for arch in archs:
        if arch in TASKS:
            return TASKS[arch]
    raise SystemExit(f"bench_reference: unsupported architectures {archs}; expected one of {list(TASKS)}")


def special_ids(model_dir, config):
    """[CLS], [SEP], [PAD] ids: config.json, else vocab.txt, else 2/3/0."""
    cls_id, sep_id = config.get("cls_token_id"), config.get("sep_token_id")
    vocab = Path(model_dir) / "vocab.txt"
    if (cls_id is None or sep_id is None) and vocab.is_file():
        index = {}
        with vocab.open(encoding="utf-8") as f:
            for i, line in enumerate(f):
                token = line.rstrip("\n")
                if token in ("[CLS]", "[SEP]") and token not in index:
                    index[token] = i
        if cls_id is None:
            cls_id = index.get("[CLS]")
        if sep_id is None:
            sep_id = index.get("[SEP]")
    pad_id = config.get("pad_token_id")
    return (2 if cls_id is None else cls_id), (3 if sep_id is None else sep_id), (0 if pad_id is None else pad_id)


# --------------------------------------------------------------------------------------------------------
# token ids


def synthetic_matrix(rows, cols, vocab_size, cls_id, sep_id, seed):
    import numpy as np

    low = 1000 if vocab_size > 1100 else min(5, vocab_size - 1)
    rng = np.random.RandomState(seed)
    ids = rng.randint(low, vocab_size, size=(rows, cols), dtype=np.int64)
    ids[:, 0] = cls_id
    return [[int(x) for x in row] for row in ids]


def load_ids_file(path):
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = data.get("input_ids", data.get("ids"))
    if not isinstance(data, list) or not data:
        raise SystemExit(f"bench_reference: {path}: expected a non-empty list of id rows or {{'input_ids': rows}}")
    if all(isinstance(x, int) for x in data):
        data = [data]
    rows = []
    for row in data:
        if not isinstance(row, list) or not row or not all(isinstance(x, int) for x in row):
            raise SystemExit(f"bench_reference: {path}: every row must be a non-empty list of ints")
        rows.append(row)
    return rows


def shape_rows(source, batch, seq, sep_id):
    """The (unpadded) rows for one shape: rows cycled to `batch`, cut to `seq` with [SEP] last."""
    out = []
    for i in range(batch):
        row = list(source[i % len(source)])
        if len(row) > seq:
            row = row[:seq]
            row[-1] = sep_id
        out.append(row)
    return out


def pad_rows(rows, seq, pad_id):
    import numpy as np

    ids = np.full((len(rows), seq), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), seq), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask, np.zeros_like(ids)


# --------------------------------------------------------------------------------------------------------
# model building / export (parent process)


def build_base_shaped(save_dir, tokenizer_from):
    import torch
    from transformers import BertConfig, BertForTokenClassification

    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    config = BertConfig(
        **BASE_SHAPE,
        id2label={i: label for i, label in enumerate(NORNE_LABELS)},
        label2id={label: i for i, label in enumerate(NORNE_LABELS)},
        architectures=["BertForTokenClassification"],
    )
    torch.manual_seed(0)
    model = BertForTokenClassification(config).eval()
    n_params = sum(p.numel() for p in model.parameters())
    log(f"base-shaped: BertForTokenClassification, {n_params / 1e6:.1f}M parameters, seed 0 -> {save_dir}")
    model.save_pretrained(save_dir, safe_serialization=True)
    del model
    if tokenizer_from:
        copied = []
        for name in TOKENIZER_FILES:
            src = Path(tokenizer_from) / name
            if src.is_file():
                shutil.copy2(src, save_dir / name)
                copied.append(name)
        if not copied:
            log(f"base-shaped: warning: no tokenizer files found in {tokenizer_from}")
        else:
            log(f"base-shaped: copied {', '.join(copied)} from {tokenizer_from}")
            vocab = save_dir / "vocab.txt"
            if vocab.is_file():
                n = sum(1 for _ in vocab.open(encoding="utf-8"))
                if n != BASE_SHAPE["vocab_size"]:
                    log(f"base-shaped: note: tokenizer has {n} pieces, the model {BASE_SHAPE['vocab_size']} "
                        "(fine for benchmarking: ids beyond the tokenizer are just never produced by it)")
    size = sum(p.stat().st_size for p in save_dir.iterdir() if p.is_file())
    log(f"base-shaped: saved {size / 2**20:.1f} MiB in {save_dir}")


def load_torch_model(model_dir, task):
    import torch
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoModelForTokenClassification

    cls = {"ner": AutoModelForTokenClassification, "classify": AutoModelForSequenceClassification,
           "encoder": AutoModel}[task]
    model = cls.from_pretrained(model_dir, dtype=torch.float32)
    return model.eval()


def torch_forward(model, task, ids, mask, types):
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
    return out.last_hidden_state if task == "encoder" else out.logits


def export_onnx(model_dir, task, onnx_dir, backends, vocab_size, cls_id, sep_id):
    """Exports fp32 ONNX (and the int8 quantization if asked); returns {precision: path}."""
    import numpy as np
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = load_torch_model(model_dir, task)

    class Wrapper(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return torch_forward(self.inner, task, input_ids, attention_mask, token_type_ids)

    wrapper = Wrapper(model).eval()
    out_name = "last_hidden_state" if task == "encoder" else "logits"
    out_axes = {0: "batch"} if task == "classify" else {0: "batch", 1: "sequence"}
    fp32_path = Path(onnx_dir) / "model.onnx"

    def sample(batch, seq, seed):
        rows = synthetic_matrix(batch, seq, vocab_size, cls_id, sep_id, seed)
        for row in rows:
            row[-1] = sep_id
        ids, mask, types = pad_rows(rows, seq, 0)
        return ids, mask, types

    ids, mask, types = sample(2, 16, 1234)
    t0 = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)),
            str(fp32_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=[out_name],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "token_type_ids": {0: "batch", 1: "sequence"},
                out_name: out_axes,
            },
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )
    log(f"onnx: exported {fp32_path} ({fp32_path.stat().st_size / 2**20:.1f} MiB) in {time.perf_counter() - t0:.1f}s")
    paths = {"f32": fp32_path}

    if "ort-int8" in backends:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8_path = Path(onnx_dir) / "model.int8.onnx"
        t0 = time.perf_counter()
        quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)
        log(f"onnx: quantized {int8_path} ({int8_path.stat().st_size / 2**20:.1f} MiB) "
            f"in {time.perf_counter() - t0:.1f}s")
        paths["int8"] = int8_path

    # Check at another shape than the export shape (dynamic axes really dynamic).
    import onnxruntime as ort

    ids, mask, types = sample(3, 11, 4321)
    mask[2, 7:] = 0  # one padded row, so the mask path is checked too
    with torch.no_grad():
        ref = torch_forward(model, task, torch.from_numpy(ids), torch.from_numpy(mask),
                            torch.from_numpy(types)).float().numpy()
    scale = float(np.abs(ref).max())
    for precision, path in paths.items():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {i.name: {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}[i.name]
                for i in session.get_inputs()}
        got = session.run(None, feed)[0]
        diff = float(np.abs(got - ref).max())
        extra = ""
        if task != "encoder":
            agree = float((got.argmax(-1) == ref.argmax(-1)).mean())
            extra = f", argmax agreement {agree:.3f}"
        log(f"onnx check [{precision}] shape {tuple(ids.shape)}: max |ort - torch| = {diff:.3e} "
            f"(max |torch| = {scale:.3g}{extra})")
        if precision == "f32" and diff > 1e-3 * max(1.0, scale):
            log("onnx check: WARNING: fp32 export differs from torch more than expected")
        del session
    return paths


# --------------------------------------------------------------------------------------------------------
# worker: one backend, one shape, one process


def percentile(values, q):
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def timed_loop(step, warmup, iters, seconds):
    for _ in range(warmup):
        step()
    times = []
    if seconds is not None:
        start = time.perf_counter()
        while len(times) < 1 or time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    else:
        for _ in range(iters):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    return times


def run_worker(args):
    import resource

    import numpy as np

    engine, precision = BACKENDS[args.backend]
    config = read_config(args.model)
    task = task_of(config)
    _, _, pad_id = special_ids(args.model, config)
    rows = load_ids_file(args.ids_file)
    ids, mask, types = pad_rows(rows, args.seq_len, pad_id)
    assert ids.shape == (args.batch_size, args.seq_len), ids.shape
    threads = args.threads[0]

    if engine == "torch":
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        model = load_torch_model(args.model, task)
        t_ids, t_mask, t_types = (torch.from_numpy(a) for a in (ids, mask, types))

        if precision == "bf16":
            def step():
                with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
                    torch_forward(model, task, t_ids, t_mask, t_types)
        else:
            def step():
                with torch.inference_mode():
                    torch_forward(model, task, t_ids, t_mask, t_types)
    else:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(args.onnx, options, providers=["CPUExecutionProvider"])
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        feed = {i.name: arrays[i.name] for i in session.get_inputs()}

        def step():
            session.run(None, feed)

    times = timed_loop(step, args.warmup, args.iters, args.seconds)
    mean = float(np.mean(times))
    tokens = args.batch_size * args.seq_len
    record = {
        "engine": engine,
        "task": task,
        "precision": precision,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "threads": threads,
        "tokens_per_s": tokens / mean,
        "sequences_per_s": args.batch_size / mean,
        "p50_ms": percentile(times, 50) * 1e3,
        "p95_ms": percentile(times, 95) * 1e3,
        "p99_ms": percentile(times, 99) * 1e3,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,  # Linux: KiB
        "iters": len(times),
    }
    print(json.dumps(record), flush=True)


# --------------------------------------------------------------------------------------------------------
# parent: plan, run subprocesses, merge


def run_child(cmd, env=None, shell=False):
    """Runs a command; returns (rc, stdout, stderr, maxrss_mb of that child and its reaped children)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, shell=shell)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                usage.ru_maxrss / 1024.0)


def parse_records(text):
    """Records in a command's stdout: a JSON array, an object ({"records"|"results": [...]} or one record),
    or JSON lines; log lines before a (possibly pretty-printed) JSON document are skipped."""

    def flatten(data):
        if isinstance(data, dict):
            for key in ("records", "results", "benchmarks"):
                if isinstance(data.get(key), list):
                    return data[key]
            return [data]
        return data if isinstance(data, list) else []

    lines = text.strip().splitlines()
    found = []
    for i, line in enumerate(lines):
        if not line.lstrip().startswith(("[", "{")):
            continue
        try:  # the rest of the output as one document
            found = flatten(json.loads("\n".join(lines[i:])))
            break
        except json.JSONDecodeError:
            pass
        try:  # JSON lines
            found += flatten(json.loads(line))
        except json.JSONDecodeError:
            pass
    return [r for r in found if isinstance(r, dict) and "tokens_per_s" in r]


def record_key(r):
    return (r.get("engine"), r.get("precision"), r.get("batch_size"), r.get("seq_len"), r.get("threads"))


def fill(cmd, values):
    for key, value in values.items():
        cmd = cmd.replace("{" + key + "}", shlex.quote(str(value)) if value is not None else "")
    return cmd


def run_prepare(args):
    """Internal `--prepare WORK`: model, ids and ONNX files into WORK, described by WORK/manifest.json.

    Kept out of the parent process so that the parent stays a small stdlib-only process: on Linux a child's
    ru_maxrss starts from the RSS of the process that forked it (the pre-exec image counts), so forking the
    workers from a parent that holds torch and a model would inflate every worker's peak RSS.
    """
    import logging
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    try:
        from torch.jit import TracerWarning

        warnings.filterwarnings("ignore", category=TracerWarning)
    except ImportError:
        pass
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's "consider pre-processing" note
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass

    work = Path(args.prepare)
    if args.base_shaped:
        save = args.save_model or str(work / "base-shaped")  # removed with the work folder
        build_base_shaped(save, args.tokenizer_from)
        args.model = str(save)
    model_dir = str(Path(args.model))
    config = read_config(model_dir)
    task = task_of(config)
    vocab_size = int(config["vocab_size"])
    cls_id, sep_id, pad_id = special_ids(model_dir, config)
    max_pos = int(config.get("max_position_embeddings", 512))
    if max(args.seq_lens) > max_pos:
        raise SystemExit(f"bench_reference: seq len {max(args.seq_lens)} > max_position_embeddings {max_pos}")

    # ids: one source for everything
    if args.ids:
        source = load_ids_file(args.ids)
        bad = [x for row in source for x in row if not 0 <= x < vocab_size]
        if bad:
            raise SystemExit(f"bench_reference: {args.ids}: ids out of range [0, {vocab_size}): {bad[:5]}")
        full_ids_path = Path(args.ids).resolve()
    else:
        source = synthetic_matrix(max(args.batch_sizes), max(args.seq_lens), vocab_size, cls_id, sep_id,
                                  args.ids_seed)
        for row in source:
            row[-1] = sep_id
        full_ids_path = work / "ids.json"
        full_ids_path.write_text(json.dumps(source))
    if args.dump_ids:
        Path(args.dump_ids).write_text(json.dumps(source))
    ids_paths = {}
    for b in args.batch_sizes:
        for s in args.seq_lens:
            path = work / f"ids_b{b}_s{s}.json"
            path.write_text(json.dumps(shape_rows(source, b, s, sep_id)))
            ids_paths[f"{b},{s}"] = str(path)

    log(f"model {model_dir}: task {task}, vocab {vocab_size}, hidden {config.get('hidden_size')}, "
        f"layers {config.get('num_hidden_layers')}; [CLS]={cls_id} [SEP]={sep_id} [PAD]={pad_id}")

    onnx_paths = {}
    if any(b.startswith("ort-") for b in args.backends):
        onnx_paths = export_onnx(model_dir, task, work, args.backends, vocab_size, cls_id, sep_id)
    manifest = {"model": model_dir, "task": task, "ids": str(full_ids_path), "shape_ids": ids_paths,
                "onnx": {k: str(v) for k, v in onnx_paths.items()}}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1))


def run_parent(args):
    work = Path(tempfile.mkdtemp(prefix="norsk-bench-ref-"))
    base_env = dict(os.environ)
    base_env.update(TOKENIZERS_PARALLELISM="false", TRANSFORMERS_VERBOSITY="error", HF_HUB_OFFLINE="1")
    try:
        rc = subprocess.call([sys.executable, str(SCRIPT), *sys.argv[1:], "--prepare", str(work)],
                             env=base_env, stdout=sys.stderr)
        if rc != 0 or not (work / "manifest.json").is_file():
            log(f"bench_reference: preparation failed (exit {rc})")
            return 2
        manifest = json.loads((work / "manifest.json").read_text())
        model_dir = manifest["model"]
        full_ids_path = manifest["ids"]
        ids_paths = {tuple(int(x) for x in k.split(",")): v for k, v in manifest["shape_ids"].items()}
        onnx_paths = manifest["onnx"]
        shapes = [(b, s, t) for t in args.threads for s in args.seq_lens for b in args.batch_sizes]

        # plan
        per_shape_norsk = bool(args.norsk) and any(
            "{" + k + "}" in args.norsk for k in ("batch_size", "seq_len", "threads"))
        jobs = []  # (round, kind, shape or None, backend or None)
        for rnd in range(args.rounds):
            round_jobs = []
            for shape in shapes:
                order = list(args.backends) if rnd % 2 == 0 else list(reversed(args.backends))
                shape_jobs = [("worker", shape, b) for b in order]
                if per_shape_norsk:
                    shape_jobs.insert((len(shape_jobs) + 1) // 2, ("norsk", shape, None))
                round_jobs += shape_jobs
            if args.norsk and not per_shape_norsk:
                round_jobs.insert(len(round_jobs) // 2, ("norsk", None, None))
            jobs += [(rnd,) + j for j in round_jobs]

        best = {}
        order_seen = []
        failures = 0
        for n, (rnd, kind, shape, backend) in enumerate(jobs, 1):
            prefix = f"[{n}/{len(jobs)}]" + (f" round {rnd + 1}" if args.rounds > 1 else "")
            if kind == "worker":
                b, s, t = shape
                engine, precision = BACKENDS[backend]
                cmd = [sys.executable, str(SCRIPT), "--worker", "--model", model_dir, "--backend", backend,
                       "--batch-sizes", str(b), "--seq-lens", str(s), "--threads", str(t),
                       "--warmup", str(args.warmup), "--iters", str(args.iters),
                       "--ids-file", str(ids_paths[(b, s)])]
                if args.seconds is not None:
                    cmd += ["--seconds", str(args.seconds)]
                if engine == "onnxruntime":
                    cmd += ["--onnx", str(onnx_paths[precision])]
                env = dict(base_env, OMP_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
                label = f"{backend} b={b} s={s} t={t}"
                rc, out, err, rss = run_child(cmd, env=env)
            else:
                values = {"model": model_dir, "warmup": args.warmup, "iters": args.iters,
                          "seconds": args.seconds, "ids": full_ids_path}
                if shape:
                    b, s, t = shape
                    values.update(batch_size=b, seq_len=s, threads=t, ids=ids_paths[(b, s)])
                cmd = fill(args.norsk, values)
                label = "norsk" + (f" b={shape[0]} s={shape[1]} t={shape[2]}" if shape else "") + f": {cmd}"
                rc, out, err, rss = run_child(cmd, env=base_env, shell=True)
            records = parse_records(out) if rc == 0 else []
            if rc != 0 or not records:
                failures += 1
                log(f"{prefix} {label}: FAILED (exit {rc}, {len(records)} records)")
                tail = (err.strip() or out.strip())[-3000:]
                if tail:
                    log("    " + tail.replace("\n", "\n    "))
                continue
            for r in records:
                if kind == "norsk":
                    r.setdefault("engine", "norsk")
                    if r.get("peak_rss_mb") is None:
                        r["peak_rss_mb"] = rss
                key = record_key(r)
                if key not in best:
                    order_seen.append(key)
                if key not in best or r["tokens_per_s"] > best[key]["tokens_per_s"]:
                    best[key] = r
                if kind == "worker" or len(records) <= 4:
                    log(f"{prefix} {r.get('engine')}/{r.get('precision')} b={r.get('batch_size')} "
                        f"s={r.get('seq_len')} t={r.get('threads')}: {r['tokens_per_s']:.1f} tok/s, "
                        f"p50 {r.get('p50_ms', float('nan')):.2f} ms, rss {r.get('peak_rss_mb') or 0:.0f} MB, "
                        f"{r.get('iters')} iters")
            if kind == "norsk" and len(records) > 4:
                log(f"{prefix} norsk: {len(records)} records")

        results = [best[k] for k in order_seen]
        results = [{**{k: r.get(k) for k in RECORD_KEYS}, **{k: v for k, v in r.items() if k not in RECORD_KEYS}}
                   for r in results]
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
        if args.format == "json":
            print(json.dumps(results, indent=1))
        else:
            print_table(results)
        return 1 if failures else 0
    finally:
        if args.keep_onnx:
            dest = Path(args.keep_onnx)
            dest.mkdir(parents=True, exist_ok=True)
            for p in work.glob("*.onnx*"):
                shutil.copy2(p, dest / p.name)
            log(f"onnx files kept in {dest}")
        shutil.rmtree(work, ignore_errors=True)


def print_table(results):
    col_order = {("torch", "f32"): 0, ("torch", "bf16"): 1, ("onnxruntime", "f32"): 2,
                 ("onnxruntime", "int8"): 3}
    cols = sorted({(r["engine"], r["precision"]) for r in results},
                  key=lambda c: (col_order.get(c, 10), str(c)))
    shapes = sorted({(r["batch_size"], r["seq_len"], r["threads"]) for r in results},
                    key=lambda s: (s[2], s[1], s[0]))
    by = {(r["engine"], r["precision"], r["batch_size"], r["seq_len"], r["threads"]): r for r in results}
    task = ",".join(sorted({str(r.get("task")) for r in results}))

    def table(title, cell):
        head = ["batch", "seq", "threads"] + [f"{e}/{p}" for e, p in cols]
        rows = []
        for b, s, t in shapes:
            base = by.get(("torch", "f32", b, s, t))
            row = [str(b), str(s), str(t)]
            for e, p in cols:
                r = by.get((e, p, b, s, t))
                row.append(cell(r, base) if r else "-")
            rows.append(row)
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        print(title)
        print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        print()

    def throughput(r, base):
        ratio = f" ({r['tokens_per_s'] / base['tokens_per_s']:.2f}x)" if base else ""
        return f"{r['tokens_per_s']:.1f}{ratio}"

    def latency(r, base):
        rss = r.get("peak_rss_mb")
        rss = f"{rss:.0f}MB" if isinstance(rss, (int, float)) else "?"
        return f"{r.get('p50_ms', float('nan')):.2f}/{r.get('p95_ms', float('nan')):.2f}ms {rss}"

    table(f"tokens/s (ratio vs torch/f32 of the same shape), task {task}", throughput)
    table("p50/p95 latency per batch, peak RSS", latency)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See the module docstring (top of this file) for details.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="Hugging Face model folder (BertForTokenClassification, "
                                     "BertForSequenceClassification or BertModel)")
    src.add_argument("--base-shaped", action="store_true",
                     help="build a BERT-base-shaped BertForTokenClassification (nb-bert-base config, "
                          "19 labels, random weights, seed 0)")
    p.add_argument("--save-model", help="with --base-shaped: folder to save it to (default: a temp folder, removed "
                                          "at the end)")
    p.add_argument("--tokenizer-from", help="with --base-shaped: copy tokenizer files from this model folder")
    p.add_argument("--batch-sizes", type=int_list, default=[1, 8], help="comma list (default 1,8)")
    p.add_argument("--seq-lens", type=int_list, default=[128], help="comma list (default 128)")
    p.add_argument("--threads", type=int_list, default=[2], help="comma list (default 2)")
    p.add_argument("--backends", type=backend_list, default=list(BACKENDS),
                   help=f"comma list of {','.join(BACKENDS)} (default: all)")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    p.add_argument("--iters", type=int, default=20, help="timed iterations (default 20)")
    p.add_argument("--seconds", type=float, help="time each configuration for this long instead of --iters")
    p.add_argument("--rounds", type=int, default=1, help="measure everything N times, keep the best (default 1)")
    p.add_argument("--ids", help="JSON token-id rows to use instead of synthetic ids")
    p.add_argument("--ids-seed", type=int, default=0, help="seed of the synthetic ids (default 0)")
    p.add_argument("--dump-ids", help="write the id rows used (synthetic or --ids) to this JSON file")
    p.add_argument("--format", choices=["json", "table"], default="json")
    p.add_argument("--out", help="also write the JSON records to this file")
    p.add_argument("--norsk", help="command line of the Rust benchmark (JSON output), run interleaved with "
                                   "the Python backends; placeholders {model} {ids} {batch_size} {seq_len} "
                                   "{threads} {warmup} {iters} {seconds}")
    p.add_argument("--keep-onnx", help="copy the exported ONNX files to this folder")
    # worker mode (internal)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--backend", choices=list(BACKENDS), help=argparse.SUPPRESS)
    p.add_argument("--onnx", help=argparse.SUPPRESS)
    p.add_argument("--ids-file", help=argparse.SUPPRESS)
    p.add_argument("--prepare", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.warmup < 0 or args.iters < 1 or args.rounds < 1 or (args.seconds is not None and args.seconds <= 0):
        p.error("need --warmup >= 0, --iters >= 1, --rounds >= 1, --seconds > 0")
    if args.worker:
        if not (args.model and args.backend and args.ids_file):
            p.error("--worker needs --model, --backend and --ids-file")
        args.batch_size, args.seq_len = args.batch_sizes[0], args.seq_lens[0]
        run_worker(args)
        return 0
    if (args.save_model or args.tokenizer_from) and not args.base_shaped:
        p.error("--save-model/--tokenizer-from go with --base-shaped")
    if args.prepare:
        run_prepare(args)
        return 0
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
