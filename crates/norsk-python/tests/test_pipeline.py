"""The package against the CLI on the same inputs, and its handling of bad input."""

import json
import struct
import threading
import time

import pytest

import norsk
from conftest import FIXTURES, TEXTS


def jsonl(tmp_path, texts):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def ner():
    return norsk.pipeline("ner")


def test_default_ner_model_is_found_without_flags(ner):
    assert ner.model_dir.endswith("norsk-bert-ner")
    assert "B-PER" in ner.labels


def test_ner_entities_equal_the_cli(ner, cli, tmp_path):
    out = cli("ner", "--input", jsonl(tmp_path, TEXTS), "--format", "jsonl")
    expected = [json.loads(line) for line in out.splitlines()]
    got = ner(TEXTS)
    assert len(got) == len(TEXTS)
    found = 0
    for record, entities in zip(expected, got):
        if "error" in record:  # empty texts: the CLI refuses, the package gives no entities
            assert entities == []
            continue
        assert entities == record["entities"]
        found += len(entities)
    assert found > 10


def test_ner_offsets_index_python_strings(ner):
    for text, entities in zip(TEXTS, ner(TEXTS)):
        for e in entities:
            assert text[e["start"]:e["end"]] == e["word"]
            assert set(e) == {"entity_group", "score", "word", "start", "end"}


def test_ner_single_text_gives_one_list(ner):
    entities = ner(TEXTS[0])
    assert isinstance(entities, list) and all(isinstance(e, dict) for e in entities)
    assert entities == ner([TEXTS[0]])[0]


def test_ner_options_equal_the_cli(cli, tmp_path):
    pipe = norsk.pipeline("ner", aggregation_strategy="none", split_sentences=False, precision="int8", batch_size=2)
    out = cli("ner", "--input", jsonl(tmp_path, TEXTS[:6]), "--format", "jsonl",
              "--aggregation", "none", "--no-split", "--precision", "int8", "--batch-size", "2")
    assert pipe(TEXTS[:6]) == [json.loads(line)["entities"] for line in out.splitlines()]
    assert all("entity" in e and "index" in e for e in pipe(TEXTS[0]))


def test_sentence_context_equals_the_cli(cli, tmp_path):
    for context in ("alone", "neighbours"):
        pipe = norsk.pipeline("ner", context=context)
        out = cli("ner", "--input", jsonl(tmp_path, TEXTS[:6]), "--format", "jsonl", "--context", context)
        assert pipe(TEXTS[:6]) == [json.loads(line)["entities"] for line in out.splitlines()]


def test_label_decoding_equals_the_cli(cli, tmp_path):
    for decoding in ("argmax", "constrained"):
        pipe = norsk.pipeline("ner", decoding=decoding)
        out = cli("ner", "--input", jsonl(tmp_path, TEXTS[:6]), "--format", "jsonl", "--decoding", decoding)
        assert pipe(TEXTS[:6]) == [json.loads(line)["entities"] for line in out.splitlines()]


def test_text_classification_equals_the_cli(cli, tmp_path):
    pipe = norsk.pipeline("text-classification", top_k=None)
    texts = [t for t in TEXTS if t.strip()]
    out = cli("classify", "--input", jsonl(tmp_path, texts), "--format", "jsonl")
    expected = [json.loads(line)["labels"] for line in out.splitlines()]
    assert pipe(texts) == expected
    best = norsk.pipeline("text-classification")
    assert best(texts) == [labels[0] for labels in expected]
    # One text alone is padded differently from the batch: same label, scores to float rounding.
    (alone,) = best(texts[0])
    assert alone["label"] == expected[0][0]["label"]
    assert alone["score"] == pytest.approx(expected[0][0]["score"], abs=1e-5)


def test_text_classification_without_the_lexical_channel_equals_the_cli(cli, tmp_path):
    pipe = norsk.pipeline("text-classification", top_k=None)
    texts = [t for t in TEXTS if t.strip()]
    out = cli("classify", "--no-lexical", "--input", jsonl(tmp_path, texts), "--format", "jsonl")
    expected = [json.loads(line)["labels"] for line in out.splitlines()]
    alone = pipe(texts, lexical=False)
    assert alone == expected
    assert alone != pipe(texts), "the shipped topic model's lexical channel moves its scores"


def test_zero_shot_equals_the_cli(cli, tmp_path):
    pipe = norsk.pipeline("zero-shot-classification", model=str(FIXTURES / "tiny-nli"))
    texts = TEXTS[:3]
    labels = ["politikk", "økonomi", "sport"]
    for multi in (False, True):
        args = ["classify", "--model", str(FIXTURES / "tiny-nli"), "--labels", ",".join(labels),
                "--input", jsonl(tmp_path, texts), "--format", "jsonl"]
        out = cli(*args, *(["--multi-label"] if multi else []))
        expected = [json.loads(line)["labels"] for line in out.splitlines()]
        got = pipe(texts, candidate_labels=labels, multi_label=multi)
        assert [r["sequence"] for r in got] == texts
        assert [[{"label": l, "score": s} for l, s in zip(r["labels"], r["scores"])] for r in got] == expected
    single = pipe(texts[0], candidate_labels="politikk, sport", hypothesis_template="Dette handler om {}.")
    assert sorted(single["labels"]) == ["politikk", "sport"]
    assert abs(sum(single["scores"]) - 1.0) < 1e-5


def test_zero_shot_with_no_model_embeds_and_equals_the_cli(cli, tmp_path):
    pipe = norsk.pipeline("zero-shot-classification")
    texts = TEXTS[:3]
    labels = ["politikk", "økonomi", "sport"]
    for multi in (False, True):
        args = ["classify", "--labels", ",".join(labels), "--input", jsonl(tmp_path, texts), "--format", "jsonl"]
        out = cli(*args, *(["--multi-label"] if multi else []))
        expected = [json.loads(line)["labels"] for line in out.splitlines()]
        got = pipe(texts, candidate_labels=labels, multi_label=multi)
        for row, want in zip(got, expected):
            assert row["labels"] == [w["label"] for w in want]
            assert row["scores"] == pytest.approx([w["score"] for w in want], abs=1e-5)
    match = pipe("Rosenborg slo Molde 3-1 på Lerkendal, og Haaland scoret to mål.", candidate_labels="sport, kultur")
    assert match["labels"][0] == "sport"


def test_batch_calls_release_the_gil(ner):
    texts = TEXTS * 30
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.05)
    before = ticks
    start = time.perf_counter()
    ner(texts)
    elapsed = time.perf_counter() - start
    during = ticks - before
    done.set()
    counter.join()
    # While the GIL is held the counter cannot run at all.
    assert elapsed > 0.2, elapsed
    assert during > 0.2 * elapsed / 0.001, (elapsed, during)


@pytest.mark.parametrize("bad, error", [
    (123, TypeError),
    (None, TypeError),
    ([], ValueError),
    (["ok", 5], TypeError),
    (b"bytes", TypeError),
])
def test_bad_inputs_raise(ner, bad, error):
    with pytest.raises(error):
        ner(bad)


def test_bad_settings_raise():
    with pytest.raises(norsk.NorskError, match="does not exist"):
        norsk.pipeline("ner", model="./no/such/model")
    with pytest.raises(norsk.NorskError):
        norsk.pipeline("ner", model=str(FIXTURES))  # a folder without a model
    with pytest.raises(ValueError, match="unknown task"):
        norsk.pipeline("summarization")
    with pytest.raises(ValueError, match="precision"):
        norsk.pipeline("ner", precision="fp7")
    with pytest.raises(ValueError, match="aggregation_strategy"):
        norsk.pipeline("ner", aggregation_strategy="loudest")
    with pytest.raises(ValueError, match="batch_size"):
        norsk.pipeline("ner", batch_size=0)
    with pytest.raises(ValueError, match="context"):
        norsk.pipeline("ner", context="both")
    with pytest.raises(ValueError, match="decoding"):
        norsk.pipeline("ner", decoding="viterbi")
    with pytest.raises(norsk.NorskError, match="cannot load a zero-shot model from .*tiny-ner.*NLI model or an embedding model"):
        norsk.pipeline("zero-shot-classification", model=str(FIXTURES / "tiny-ner"))
    zero_shot = norsk.pipeline("zero-shot-classification", model=str(FIXTURES / "tiny-nli"))
    with pytest.raises(ValueError, match="candidate_labels"):
        zero_shot("tekst", candidate_labels=[])
    with pytest.raises(ValueError, match="hypothesis_template"):
        zero_shot("tekst", candidate_labels=["a"], hypothesis_template="no slot")
    with pytest.raises(ValueError, match="top_k"):
        norsk.pipeline("text-classification")("tekst", top_k=0)


def test_embeddings_equal_the_cli(cli, tmp_path):
    texts = [t for t in TEXTS if t.strip()]
    for kind in ("passage", "query"):
        pipe = norsk.pipeline("sentence-embeddings", kind=kind)
        out = cli("embed", "--kind", kind, "--input", jsonl(tmp_path, texts))
        expected = [json.loads(line)["embedding"] for line in out.splitlines()]
        got = pipe(texts)
        assert len(got) == len(texts) and len(got[0]) == pipe.dim == 384
        # The CLI writes each f32 as the shortest decimal that reads back as it.
        f32 = lambda row: [struct.unpack("f", struct.pack("f", x))[0] for x in row]  # noqa: E731
        assert [f32(v) for v in got] == [f32(v) for v in expected]
    with pytest.raises(ValueError, match="kind"):
        norsk.pipeline("sentence-embeddings", kind="document")


def test_kernels_are_reported():
    assert "f32" in norsk.kernels_info()
