"""docret: semantic document retrieval with codes learned from your own corpus.

The public names are imported lazily so that ``docret --help`` and the query path stay fast
and never import torch or scikit-learn before they are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CorpusError",
    "DatabaseError",
    "DocretError",
    "Hit",
    "Index",
    "QueryError",
    "TrainingError",
    "UnknownDocumentError",
    "__version__",
]

if TYPE_CHECKING:
    from docret.errors import (
        CorpusError,
        DatabaseError,
        DocretError,
        QueryError,
        TrainingError,
        UnknownDocumentError,
    )
    from docret.index import Hit, Index

_LAZY = {
    "Index": "docret.index",
    "Hit": "docret.index",
    "DocretError": "docret.errors",
    "CorpusError": "docret.errors",
    "DatabaseError": "docret.errors",
    "QueryError": "docret.errors",
    "TrainingError": "docret.errors",
    "UnknownDocumentError": "docret.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'docret' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
