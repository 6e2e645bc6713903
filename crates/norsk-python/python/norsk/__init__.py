"""Norwegian BERT models on the CPU, with transformers' ``pipeline`` API.

>>> import norsk
>>> ner = norsk.pipeline("ner")
>>> ner("Jens Stoltenberg møtte Erna Solberg i Oslo.")
[{'entity_group': 'PER', 'score': 0.99..., 'word': 'Jens Stoltenberg', 'start': 0, 'end': 16}, ...]

The models run in Rust (candle) on the library's own threads; a call on a list
releases the GIL. No PyTorch is needed. With ``model=None`` the models shipped
in the package are used: ``norsk-bert-ner`` (NorNE entities) and
``norsk-topic`` (policy areas) and ``norsk-e5-embed`` (sentence embeddings).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _norsk
from ._norsk import DEFAULT_HYPOTHESIS_TEMPLATE, NorskError, kernels_info

__all__ = [
    "pipeline",
    "NerPipeline",
    "TextClassificationPipeline",
    "ZeroShotClassificationPipeline",
    "EmbeddingPipeline",
    "NorskError",
    "kernels_info",
    "DEFAULT_HYPOTHESIS_TEMPLATE",
]
__version__ = _norsk.__version__

_MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")

Inputs = Union[str, Sequence[str]]


def _texts(inputs: Any) -> tuple[list[str], bool]:
    """The texts of a call and whether a single text was given."""
    if isinstance(inputs, str):
        return [inputs], True
    if isinstance(inputs, (list, tuple)):
        if not inputs:
            raise ValueError("no texts given: the list is empty")
        for i, text in enumerate(inputs):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is a {type(text).__name__}, not a str")
        return list(inputs), False
    raise TypeError(f"expected a str or a list of str, got {type(inputs).__name__}")


def _models_dir() -> Optional[str]:
    return _MODELS_DIR if os.path.isdir(_MODELS_DIR) else None


class _Pipeline:
    """What every pipeline has: the Rust model it calls."""

    _model: Any

    @property
    def model_dir(self) -> str:
        """The folder the model was loaded from."""
        return str(self._model.model_dir)


class _LabelledPipeline(_Pipeline):
    @property
    def labels(self) -> List[str]:
        """The model's labels, in id order."""
        return self._model.labels


class NerPipeline(_LabelledPipeline):
    """Named entities, as transformers' ``token-classification`` pipeline.

    Each entity is a dict with ``entity_group``, ``score``, ``word``, ``start``
    and ``end`` (character offsets: ``text[start:end] == word``); with
    ``aggregation_strategy="none"``, ``entity`` and ``index`` instead of
    ``entity_group``. Texts are tagged sentence by sentence unless
    ``split_sentences=False``, each with its neighbouring sentences as
    context (``context="neighbours"``) or alone (``"alone"``); ``"model"``
    does as the model was trained. Long texts run in windows overlapping by
    ``stride`` tokens (``None``: only the first window). Tokens are grouped
    into words by ``aggregation_strategy`` (``None``: as the model's config
    says, else ``"first"``). Labels are chosen
    each by its argmax (``decoding="argmax"``, as transformers) or as the
    best sequence the label scheme allows (``"constrained"``); ``None`` does
    as the model's config says.
    """

    def __init__(
        self,
        model: Optional[str] = None,
        aggregation_strategy: Optional[str] = None,
        decoding: Optional[str] = None,
        stride: Optional[int] = 128,
        ignore_labels: Optional[List[str]] = None,
        batch_size: int = 8,
        split_sentences: bool = True,
        context: str = "model",
        precision: str = "f32",
    ) -> None:
        self._model = _norsk.NerModel(
            model,
            aggregation_strategy=aggregation_strategy,
            decoding=decoding,
            stride=stride,
            ignore_labels=ignore_labels,
            batch_size=batch_size,
            split_sentences=split_sentences,
            context=context,
            precision=precision,
            models_dir=_models_dir(),
        )

    def __call__(self, inputs: Inputs) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
        texts, single = _texts(inputs)
        tagged = self._model.tag(texts)
        return tagged[0] if single else tagged


class TextClassificationPipeline(_LabelledPipeline):
    """Labels of texts, as transformers' ``text-classification`` pipeline.

    A call on one text gives a list of ``{"label", "score"}`` dicts, best
    first (``top_k`` of them, all with ``top_k=None``); on a list of texts,
    one dict per text with ``top_k=1``, else one list per text. Long texts are
    read whole, in windows whose logits are averaged (``truncation=True``:
    only the first window). ``titles`` puts a headline in front of every
    window of its text. A model with a lexical channel (the shipped topic
    model) adds its logits, from the whole text; ``lexical=False`` reads the
    model alone.
    """

    def __init__(self, model: Optional[str] = None, batch_size: int = 16, precision: str = "f32", top_k: Optional[int] = 1) -> None:
        self._model = _norsk.TextClassifier(model, batch_size=batch_size, precision=precision, models_dir=_models_dir())
        self._top_k = top_k

    def __call__(
        self,
        inputs: Inputs,
        *,
        top_k: Any = "default",
        titles: Optional[Sequence[Optional[str]]] = None,
        multi_label: Optional[bool] = None,
        truncation: bool = False,
        lexical: bool = True,
    ) -> Union[List[Dict[str, Any]], List[List[Dict[str, Any]]]]:
        texts, single = _texts(inputs)
        if titles is not None:
            titles = [titles] if isinstance(titles, str) else list(titles)
        k = self._top_k if top_k == "default" else top_k
        if k is not None and (not isinstance(k, int) or k < 1):
            raise ValueError(f"top_k must be a positive int or None, got {k!r}")
        ranked = self._model.classify(texts, titles, top_k=k, multi_label=multi_label, truncation=truncation, lexical=lexical)
        results = [[{"label": label, "score": score} for label, score in row] for row in ranked]
        if single:
            return results[0]
        return [row[0] for row in results] if k == 1 else results


class ZeroShotClassificationPipeline(_Pipeline):
    """Zero-shot labels, as transformers' ``zero-shot-classification``
    pipeline: each result is a dict with ``sequence``, ``labels`` (best
    first) and ``scores``. With an NLI ``model`` each label is put into
    ``hypothesis_template`` and judged by the model; with an embedding model
    (the shipped ``norsk-e5-embed`` when ``model`` is None) the text is
    compared with each label put into the template, by cosine similarity at
    the model's fitted temperature."""

    def __init__(self, model: Optional[str] = None, batch_size: int = 16, precision: str = "f32") -> None:
        self._model = _norsk.ZeroShotModel(model, batch_size=batch_size, precision=precision, models_dir=_models_dir())

    def __call__(
        self,
        inputs: Inputs,
        candidate_labels: Union[str, Sequence[str]],
        hypothesis_template: str = DEFAULT_HYPOTHESIS_TEMPLATE,
        multi_label: bool = False,
    ) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
        texts, single = _texts(inputs)
        if isinstance(candidate_labels, str):
            candidate_labels = [c.strip() for c in candidate_labels.split(",") if c.strip()]
        labels = list(candidate_labels)
        if not labels:
            raise ValueError("no candidate_labels given")
        ranked = self._model.classify(texts, labels, hypothesis_template, multi_label)
        results = [
            {"sequence": text, "labels": [label for label, _ in row], "scores": [score for _, score in row]}
            for text, row in zip(texts, ranked)
        ]
        return results[0] if single else results


class EmbeddingPipeline(_Pipeline):
    """Sentence embeddings, as sentence-transformers' ``encode``: one unit
    vector (list of floats) per text, mean-pooled, with e5's prompt for
    ``kind="query"`` or ``"passage"`` (``"none"``: no prompt). Long texts are
    pooled over all their windows (``truncate=True``: the first only)."""

    def __init__(self, model: Optional[str] = None, kind: str = "passage", truncate: bool = False, batch_size: int = 16, precision: str = "f32") -> None:
        self._model = _norsk.EmbedModel(model, kind=kind, truncate=truncate, batch_size=batch_size, precision=precision, models_dir=_models_dir())

    @property
    def dim(self) -> int:
        """The length of every vector."""
        return self._model.dim

    def __call__(self, inputs: Inputs) -> Union[List[float], List[List[float]]]:
        texts, single = _texts(inputs)
        vectors = self._model.embed(texts)
        return vectors[0] if single else vectors


_TASKS = {
    "ner": NerPipeline,
    "token-classification": NerPipeline,
    "text-classification": TextClassificationPipeline,
    "sentiment-analysis": TextClassificationPipeline,
    "zero-shot-classification": ZeroShotClassificationPipeline,
    "sentence-embeddings": EmbeddingPipeline,
    "embeddings": EmbeddingPipeline,
}


def pipeline(task: str, model: Optional[str] = None, **kwargs: Any):
    """A pipeline for ``task``: ``"ner"`` (or ``"token-classification"``),
    ``"text-classification"``, ``"zero-shot-classification"`` or
    ``"sentence-embeddings"``.

    ``model`` is a folder in Hugging Face layout or a hub id
    (``owner/name[@revision]``); ``None`` takes the shipped model (NER and
    text classification). Other keyword arguments go to the pipeline class:
    ``aggregation_strategy``, ``decoding``, ``stride``, ``ignore_labels``, ``batch_size``,
    ``split_sentences``, ``context``, ``precision`` (``"f32"``, ``"f16"``, ``"bf16"``,
    ``"int8"``), ``top_k``, ``kind``, ``truncate``.
    """
    try:
        cls = _TASKS[task]
    except KeyError:
        raise ValueError(f"unknown task {task!r}; norsk has {', '.join(sorted(_TASKS))}") from None
    return cls(model=model, **kwargs)
