"""norsk.archive on a real local Dask cluster: two worker processes, a few
thousand records, a worker killed mid-run; the output equals a run in one process."""

import gzip
import json
import os
import signal
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

from norsk import archive  # noqa: E402
from conftest import FIXTURES, TEXTS  # noqa: E402

MODEL = str(FIXTURES / "tiny-ner")
PARTS = 12
PER_PART = 250


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    """12 partitions of 250 records (two gzipped), with a few bad lines."""
    root = tmp_path_factory.mktemp("arkiv")
    sentences = [t for t in TEXTS if t.strip()]
    n = 0
    for p in range(PARTS):
        lines = []
        for i in range(PER_PART):
            text = f"{sentences[n % len(sentences)]} Sak {n}."
            record = {"id": f"doc-{n}", "text": text, "kilde": "test"}
            if n % 97 == 5:
                lines.append("{not json")
            elif n % 101 == 7:
                lines.append(json.dumps({"id": f"doc-{n}", "tekst": text}))
            else:
                lines.append(json.dumps(record, ensure_ascii=False))
            n += 1
        body = "\n".join(lines) + "\n"
        if p % 6 == 5:
            with gzip.open(root / f"part-{p:03}.jsonl.gz", "wt", encoding="utf-8") as f:
                f.write(body)
        else:
            (root / f"part-{p:03}.jsonl").write_text(body, encoding="utf-8")
    return root


def read_outputs(summary):
    return [[json.loads(line) for line in open(path, encoding="utf-8")] for path in summary.outputs]


@pytest.fixture(scope="module")
def single_process(archive_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("single")
    summary = archive.run("ner", str(archive_dir), str(out), model=MODEL)
    return summary, read_outputs(summary)


def test_single_process_run_gives_one_record_per_line_in_order(archive_dir, single_process):
    summary, outputs = single_process
    assert len(outputs) == PARTS
    assert summary.records == PARTS * PER_PART
    for p, records in enumerate(outputs):
        assert len(records) == PER_PART
        for i, record in enumerate(records):
            n = p * PER_PART + i
            assert record["id"] == (i if n % 97 == 5 else f"doc-{n}")
            assert ("error" in record) == (n % 97 == 5 or n % 101 == 7)
    errors = sum("error" in r for records in outputs for r in records)
    assert summary.errors == errors > 0
    assert any(r.get("entities") for records in outputs for r in records)


def test_cluster_run_with_a_killed_worker_equals_single_process(archive_dir, single_process, tmp_path):
    from distributed import Client, LocalCluster

    _, expected = single_process
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        result = {}
        runner = threading.Thread(target=lambda: result.update(summary=archive.run("ner", str(archive_dir), str(tmp_path), client=client, model=MODEL)))
        runner.start()
        # Kill one worker as soon as it is busy: its partition must be run again elsewhere.
        deadline = time.time() + 60
        while time.time() < deadline and not any(".norsk-tmp-" in name for name in os.listdir(tmp_path)):
            time.sleep(0.005)
        os.kill(victim, signal.SIGKILL)
        runner.join(timeout=300)
        assert not runner.is_alive()
        assert victim not in client.run(os.getpid).values()
    summary = result["summary"]
    assert summary.records == PARTS * PER_PART
    assert read_outputs(summary) == expected
    assert not [name for name in os.listdir(tmp_path) if ".norsk-tmp-" in name]


def test_second_run_skips_finished_partitions_and_redoes_missing_ones(archive_dir, single_process, tmp_path):
    _, expected = single_process
    first = archive.run("ner", str(archive_dir), str(tmp_path), model=MODEL)
    os.remove(first.outputs[3])
    (tmp_path / "part-004.jsonl.norsk-tmp-dead").write_text('{"id": "half')  # left by a killed worker
    second = archive.run("ner", str(archive_dir), str(tmp_path), model=MODEL)
    assert second.skipped == PARTS - 1 and second.records == PER_PART
    assert read_outputs(second) == expected
    assert not (tmp_path / "part-004.jsonl.norsk-tmp-dead").exists()


def test_classify_on_the_cluster_equals_single_process(archive_dir, tmp_path):
    from distributed import Client, LocalCluster

    parts = archive.partitions(str(archive_dir))[:4]
    model = str(FIXTURES / "tiny-cls")
    single = archive.run("classify", parts, str(tmp_path / "one"), model=model)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        spread = archive.run("classify", parts, str(tmp_path / "two"), client=client, model=model)
    assert read_outputs(spread) == read_outputs(single)
    first = read_outputs(single)[0][0]
    assert first["label"] == first["labels"][0]["label"] and first["kilde"] == "test"


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="ner or classify"):
        archive.run("summarize", str(tmp_path), str(tmp_path / "out"))
    with pytest.raises(FileNotFoundError):
        archive.run("ner", str(tmp_path / "nothing-*.jsonl"), str(tmp_path / "out"))
