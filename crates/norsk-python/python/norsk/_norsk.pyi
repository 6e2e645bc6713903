"""Type stubs of the extension module (Rust, PyO3)."""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple

__version__: str
DEFAULT_HYPOTHESIS_TEMPLATE: str

class NorskError(Exception):
    """A model could not be loaded or run; the message says what and where."""

def kernels_info() -> str:
    """Which product kernels this process runs, and why."""

class NerModel:
    def __init__(
        self,
        model: Optional[str] = None,
        *,
        aggregation_strategy: str = "first",
        stride: Optional[int] = 128,
        ignore_labels: Optional[List[str]] = None,
        batch_size: int = 8,
        split_sentences: bool = True,
        precision: str = "f32",
        models_dir: Optional[str | PathLike[str]] = None,
    ) -> None: ...
    def tag(self, texts: List[str]) -> List[List[Dict[str, Any]]]:
        """Entities of each text (GIL released while the model runs)."""
    @property
    def labels(self) -> List[str]: ...
    @property
    def model_dir(self) -> str: ...

class TextClassifier:
    def __init__(
        self,
        model: Optional[str] = None,
        *,
        batch_size: int = 16,
        precision: str = "f32",
        models_dir: Optional[str | PathLike[str]] = None,
    ) -> None: ...
    def classify(
        self,
        texts: List[str],
        titles: Optional[List[Optional[str]]] = None,
        *,
        top_k: Optional[int] = 1,
        multi_label: Optional[bool] = None,
        truncation: bool = False,
        lexical: bool = True,
    ) -> List[List[Tuple[str, float]]]:
        """(label, score) pairs of each text, best first; ``lexical=False`` reads the model without its lexical channel."""
    @property
    def labels(self) -> List[str]: ...
    @property
    def model_dir(self) -> str: ...

class ZeroShotModel:
    """An NLI model, or an embedding model (the shipped one when model is None), for zero-shot labels."""
    def __init__(self, model: Optional[str] = None, *, batch_size: int = 16, precision: str = "f32", models_dir: Optional[str] = None) -> None: ...
    def classify(
        self,
        texts: List[str],
        candidate_labels: List[str],
        hypothesis_template: str = ...,
        multi_label: bool = False,
    ) -> List[List[Tuple[str, float]]]:
        """(label, score) pairs of each text over the candidates, best first."""
    @property
    def model_dir(self) -> str: ...

class EmbedModel:
    def __init__(
        self,
        model: Optional[str] = None,
        *,
        kind: str = "passage",
        truncate: bool = False,
        batch_size: int = 16,
        precision: str = "f32",
        models_dir: Optional[str | PathLike[str]] = None,
    ) -> None: ...
    def embed(self, texts: List[str]) -> List[List[float]]:
        """One unit vector per text (GIL released while the model runs)."""
    @property
    def dim(self) -> int: ...
    @property
    def model_dir(self) -> str: ...
