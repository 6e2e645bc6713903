#!/usr/bin/env python3
"""Writes starting corpora for the cargo-fuzz targets (no third-party packages).

    python3 scripts/make_fuzz_seeds.py OUT

makes OUT/ner_decode, OUT/records and OUT/model_folder. The model-folder
inputs hold a micro BERT token classifier (hidden size 4, one layer) as
safetensors, sharded safetensors with an index, and a PyTorch checkpoint's
data.pkl and storages (pickled as torch.save pickles them, with stand-ins for
torch's classes), in the section format of norsk_model::fuzzing. After
fuzzing, `cargo fuzz cmin` and a few dozen small files of each corpus are
committed under crates/*/fuzz/seeds/.
"""
import collections
import gzip
import io
import json
import lzma
import pickle
import struct
import sys
import types
from pathlib import Path

H, I, V, P, T, L = 4, 8, 8, 8, 2, 3


def tensors():
    shapes = {
        "bert.embeddings.word_embeddings.weight": (V, H),
        "bert.embeddings.position_embeddings.weight": (P, H),
        "bert.embeddings.token_type_embeddings.weight": (T, H),
        "bert.embeddings.LayerNorm.weight": (H,),
        "bert.embeddings.LayerNorm.bias": (H,),
    }
    layer = "bert.encoder.layer.0."
    for name in ["attention.self.query", "attention.self.key", "attention.self.value",
                 "attention.output.dense"]:
        shapes[layer + name + ".weight"] = (H, H)
        shapes[layer + name + ".bias"] = (H,)
    for norm in ["attention.output.LayerNorm", "output.LayerNorm"]:
        shapes[layer + norm + ".weight"] = (H,)
        shapes[layer + norm + ".bias"] = (H,)
    shapes[layer + "intermediate.dense.weight"] = (I, H)
    shapes[layer + "intermediate.dense.bias"] = (I,)
    shapes[layer + "output.dense.weight"] = (H, I)
    shapes[layer + "output.dense.bias"] = (H,)
    shapes["bert.pooler.dense.weight"] = (H, H)
    shapes["bert.pooler.dense.bias"] = (H,)
    shapes["classifier.weight"] = (L, H)
    shapes["classifier.bias"] = (L,)
    out = {}
    for k, (name, shape) in enumerate(shapes.items()):
        n = 1
        for d in shape:
            n *= d
        out[name] = (shape, [((k * 7 + i * 3) % 11 - 5) / 10 for i in range(n)])
    return out


def config():
    return json.dumps({
        "architectures": ["BertForTokenClassification"], "model_type": "bert",
        "hidden_size": H, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": I, "vocab_size": V, "max_position_embeddings": P,
        "type_vocab_size": T, "hidden_act": "gelu",
        "id2label": {"0": "O", "1": "B-PER", "2": "I-PER"},
    }).encode()


def safetensors(items):
    header, data = {}, b""
    for name, (shape, values) in items:
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + data


def torch_pickle(items):
    """data.pkl and storages as torch.save writes them, without torch."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        pass

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch.FloatStorage, utils._rebuild_tensor_v2, torch._utils = FloatStorage, _rebuild_tensor_v2, utils
    sys.modules.update({"torch": torch, "torch._utils": utils})

    class Storage:
        def __init__(self, key, numel):
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce_ex__(self, protocol):
            stride, acc = [], 1
            for d in reversed(self.shape):
                stride.insert(0, acc)
                acc *= d
            return (_rebuild_tensor_v2,
                    (self.storage, 0, tuple(self.shape), tuple(stride), False,
                     collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
            return None

    state, storages = collections.OrderedDict(), []
    for k, (name, (shape, values)) in enumerate(items):
        state[name] = Tensor(Storage(str(k), len(values)), shape)
        storages.append(struct.pack(f"<{len(values)}f", *values))
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(state)
    return buf.getvalue(), storages


def sections(parts):
    out = b""
    for tag, data in parts:
        assert len(data) < 65536
        out += bytes([tag]) + struct.pack("<H", len(data)) + data
    return out


def main(out):
    out = Path(out)
    for name in ["ner_decode", "records", "model_folder"]:
        (out / name).mkdir(parents=True, exist_ok=True)

    texts = ["Jens Stoltenberg møtte Erna Solberg i Oslo. Så dro han til Tromsø.",
             "Tromso\u0308 👩‍👩‍👧 e\u0301\r\nNBSP\u00a0her\u3000全角 ﻿BOM",
             "▁ ▁▁ ##sen [UNK] [CLS] \t\n  ", "Ole\u001eKari Nordmann\u001e\u001e", "a" * 300]
    for i, text in enumerate(texts):
        for options in [0x00, 0x03, 0x45, 0x87, 0xC9]:
            data = bytes([options, (i * 37) % 256, i, 7]) + text.encode()
            (out / "ner_decode" / f"t{i}-{options:02x}").write_bytes(data)

    jsonl = ('{"id":"a","text":"Oslo","kilde":"NTB"}\nnot json\n\n[1]\n{"tekst":"x"}\n'
             '{"text":"Bergen"}\r\n{"id":3,"text":"\\u00e6\\ud83d\\ude00"}').encode()
    csv = b'id,kilde,text\na,NTB,Oslo er fin\nb,VG\nc,NRK,"Bergen, by",ekstra\nd,"open\n'
    records = {
        "jsonl": b"\x00" + jsonl,
        "jsonl-round": b"\x01Oslo\xffTroms\xc3\xb8 \"x\"\xff\xff\\n\r\n",
        "csv": b"\x02" + csv,
        "tsv": b"\x03" + csv.replace(b",", b"\t"),
        "csv-round": b"\x04\x03a,b\xff\"q\"\xffline\nbreak\xff\xff\ttab",
        "gz": b"\x05\x00" + gzip.compress(jsonl),
        "xz": b"\x05\x01" + lzma.compress(jsonl, format=lzma.FORMAT_XZ),
        "folder": b"\x06\x00Oslo\xff\x01\x1f\x8b\xff\x02md\xff\x08Bergen\xff\x05\xff",
    }
    for name, data in records.items():
        (out / "records" / name).write_bytes(data)

    items = list(tensors().items())
    cfg = config()
    single = safetensors(items)
    half = len(items) // 2
    first, second = safetensors(items[:half]), safetensors(items[half:])
    index = json.dumps({"metadata": {}, "weight_map": {
        name: "model-0000%d-of-00002.safetensors" % (1 if k < half else 2)
        for k, (name, _) in enumerate(items)}}).encode()
    pkl, storages = torch_pickle(items)
    seq_cfg = cfg.replace(b"BertForTokenClassification", b"BertForSequenceClassification")
    models = {
        "safetensors": [(0, cfg), (1, single)],
        "safetensors-int8": [(0x80, cfg), (1, single)],
        "sequence": [(0, seq_cfg), (1, single)],
        "sharded": [(0, cfg), (2, index), (4, first), (5, second)],
        "pickle": [(0, cfg), (6, pkl)] + [(7, s) for s in storages],
        "config-only": [(0, cfg)],
    }
    for name, parts in models.items():
        (out / "model_folder" / name).write_bytes(sections(parts))


if __name__ == "__main__":
    main(sys.argv[1])
