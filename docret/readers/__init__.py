"""Readers of the file formats docret indexes: one module per format, listed in
:mod:`docret.readers.registry`, the common records and helpers in :mod:`docret.readers.base`.

This package's import is light on purpose (the query path imports :mod:`docret.corpus`, which
needs only the base records); the registry and the readers load when files are read.
"""

from docret.readers.base import Document, Reader, ReadOptions, Skipped, Source

__all__ = ["Document", "ReadOptions", "Reader", "Skipped", "Source"]
