"""Archive-scale runs on a Dask cluster: ``ner`` or ``classify`` over a
partitioned JSONL archive, one output file per partition.

>>> from dask.distributed import Client, LocalCluster
>>> from norsk import archive
>>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
...     summary = archive.run("ner", "arkiv/*.jsonl", "ut/", client=client)

What holds, whatever happens to the workers:

* each worker process loads the model once (and keeps it for every partition it runs);
* each partition's output is written to a temporary file beside its final
  name and renamed into place when whole, so an output file is never half;
* a partition whose worker dies (or raises) is run again on another worker
  (Dask's scheduler reschedules it; ``retries`` more times on an exception),
  and its output replaces nothing but itself: no duplicates, no losses;
* every input line gives exactly one output line, in input order: a result,
  or ``{"id": …, "error": …}`` for a line that is no JSON object, has no
  text, or that the model cannot run;
* a second run with the same output folder skips the partitions already
  written (resume).

Records are JSON objects with a text field (``text_field``, default
``"text"``), an optional ``id`` (default: the line's 0-based position in its
partition) and other fields, which are carried to the output as the CLI does.
"""

from __future__ import annotations

import functools
import glob
import gzip
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

#: Texts sent to the model together inside one partition.
CHUNK = 256

_TMP_MARK = ".norsk-tmp-"


@dataclass(frozen=True)
class Job:
    """What to run on each partition; sent to the workers (picklable)."""

    task: str
    model: Optional[str] = None
    text_field: str = "text"
    title_field: Optional[str] = None
    options: Tuple[Tuple[str, Any], ...] = ()


@dataclass
class Summary:
    """What a run did: records and errors per output file, partitions skipped."""

    outputs: List[str] = field(default_factory=list)
    records: int = 0
    errors: int = 0
    skipped: int = 0


def partitions(inputs: Union[str, Sequence[str]]) -> List[str]:
    """The partition files of ``inputs``: a folder (its ``*.jsonl`` and
    ``*.jsonl.gz`` files), a glob pattern, or a list of paths; sorted by name."""
    if isinstance(inputs, str):
        if os.path.isdir(inputs):
            found = glob.glob(os.path.join(inputs, "*.jsonl")) + glob.glob(os.path.join(inputs, "*.jsonl.gz"))
        else:
            found = glob.glob(inputs)
    else:
        found = list(inputs)
    if not found:
        raise FileNotFoundError(f"no partitions found at {inputs!r}")
    for path in found:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"partition {path} is not a file")
    return sorted(found)


def output_path(partition: str, output_dir: str) -> str:
    """Where a partition's output goes: its name, ending in ``.jsonl``."""
    name = os.path.basename(partition)
    for suffix in (".gz", ".jsonl"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return os.path.join(output_dir, name + ".jsonl")


def run(
    task: str,
    inputs: Union[str, Sequence[str]],
    output_dir: str,
    *,
    client: Any = None,
    model: Optional[str] = None,
    text_field: str = "text",
    title_field: Optional[str] = None,
    retries: int = 2,
    **options: Any,
) -> Summary:
    """Runs ``task`` (``"ner"`` or ``"classify"``) over every partition of
    ``inputs`` into ``output_dir``, on ``client``'s Dask cluster (``None``:
    in this process, one partition after another). ``options`` go to the
    pipeline (``aggregation_strategy``, ``precision``, ``batch_size``, …).
    Partitions whose output already exists are skipped."""
    if task not in ("ner", "classify"):
        raise ValueError(f"unknown task {task!r}: archive runs ner or classify")
    job = Job(task, model, text_field, title_field, tuple(sorted(options.items())))
    parts = partitions(inputs)
    os.makedirs(output_dir, exist_ok=True)
    _remove_stale_temporaries(output_dir)
    summary = Summary()
    todo = []
    for part in parts:
        out = output_path(part, output_dir)
        summary.outputs.append(out)
        if os.path.exists(out):
            summary.skipped += 1
        else:
            todo.append((part, out))
    if client is None:
        counts = [run_partition(job, part, out) for part, out in todo]
    else:
        futures = [
            client.submit(run_partition, job, part, out, key=f"norsk-{task}-{uuid.uuid4().hex}", retries=retries, pure=False)
            for part, out in todo
        ]
        counts = client.gather(futures)
    for records, errors in counts:
        summary.records += records
        summary.errors += errors
    # Attempts of partitions whose worker died left their temporaries.
    _remove_stale_temporaries(output_dir)
    return summary


def run_partition(job: Job, partition: str, out: str) -> Tuple[int, int]:
    """Runs one partition into ``out`` (whole or not at all); returns the
    number of records and of error records written."""
    pipe = _pipeline(job.task, job.model, job.options)
    tmp = f"{out}{_TMP_MARK}{uuid.uuid4().hex}"
    records = errors = 0
    try:
        with open(tmp, "w", encoding="utf-8") as sink:
            chunk: List[Tuple[Dict[str, Any], Optional[str]]] = []
            for parsed in _records(partition, job.text_field):
                chunk.append(parsed)
                if len(chunk) == CHUNK:
                    errors += _write_chunk(sink, job, pipe, chunk)
                    records += len(chunk)
                    chunk = []
            if chunk:
                errors += _write_chunk(sink, job, pipe, chunk)
                records += len(chunk)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return records, errors


@functools.lru_cache(maxsize=4)
def _pipeline(task: str, model: Optional[str], options: Tuple[Tuple[str, Any], ...]):
    """The pipeline of this worker process, loaded once per (task, model, options)."""
    import norsk

    name = "ner" if task == "ner" else "text-classification"
    kwargs = dict(options)
    if task == "classify":
        kwargs.setdefault("top_k", None)
    return norsk.pipeline(name, model=model, **kwargs)


def _open(partition: str):
    if partition.endswith(".gz"):
        return gzip.open(partition, "rt", encoding="utf-8", newline="\n")
    return open(partition, encoding="utf-8", newline="\n")


def _records(partition: str, text_field: str) -> Iterator[Tuple[Dict[str, Any], Optional[str]]]:
    """Each line as (the output record so far, the reason it has no usable text or None)."""
    with _open(partition) as lines:
        for position, line in enumerate(lines):
            if line.endswith("\n"):
                line = line[:-1]
            try:
                value = json.loads(line)
            except ValueError as e:
                yield {"id": position}, f"line {position + 1}: invalid JSON: {e}"
                continue
            if not isinstance(value, dict):
                yield {"id": position}, f"line {position + 1}: not a JSON object"
                continue
            record = {"id": value.pop("id", position)}
            text = value.pop(text_field, None)
            record.update(value)
            if not isinstance(text, str):
                yield record, f"line {position + 1}: no {text_field!r} string field"
            elif not text.strip():
                yield record, "empty text"
            else:
                record["_text"] = text
                yield record, None


def _write_chunk(sink, job: Job, pipe, chunk) -> int:
    """Writes one output line per record of ``chunk``, in order; returns the
    number of error records."""
    usable = [record for record, problem in chunk if problem is None]
    results = iter(_results(job, pipe, usable))
    errors = 0
    lines = []
    for record, problem in chunk:
        if problem is None:
            del record["_text"]
            result = next(results)
            if isinstance(result, Exception):
                problem = str(result)
            else:
                record.update(result)
        if problem is not None:
            record["error"] = problem
            errors += 1
        lines.append(json.dumps(record, ensure_ascii=False))
    sink.write("\n".join(lines) + "\n")
    return errors


def _results(job: Job, pipe, records: List[Dict[str, Any]]) -> List[Union[Dict[str, Any], Exception]]:
    """The result fields of each record; when the batch fails, each record is
    run alone, so that only the record the model cannot run gets an error."""
    if not records:
        return []
    try:
        return _run_batch(job, pipe, records)
    except Exception as e:  # noqa: BLE001 (per-record errors below)
        if len(records) == 1:
            return [e]
    out: List[Union[Dict[str, Any], Exception]] = []
    for record in records:
        out.extend(_results(job, pipe, [record]))
    return out


def _run_batch(job: Job, pipe, records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    texts = [record["_text"] for record in records]
    if job.task == "ner":
        return [{"entities": entities} for entities in pipe(texts)]
    titles = None
    if job.title_field is not None:
        titles = [_title(record.get(job.title_field)) for record in records]
    ranked = pipe(texts, titles=titles, top_k=None)
    return [{"label": labels[0]["label"], "labels": labels} for labels in ranked]


def _title(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _remove_stale_temporaries(output_dir: str) -> None:
    """Removes what killed runs left half-written."""
    for name in os.listdir(output_dir):
        if _TMP_MARK in name:
            os.remove(os.path.join(output_dir, name))
