"""How long jobs (build, add, retrain, evaluate) report progress: one ``progress`` object.

Every slow call takes ``progress=``, an object with the three methods below; subclass
:class:`Progress` and override what you show (each method does nothing here). The CLI's
progress bars are one such object.
"""

from __future__ import annotations

from typing import Any


class Progress:
    """Receives the progress of a long job; every method is a no-op until overridden."""

    def stage(self, message: str) -> None:
        """A new stage begins (``"Training the autoencoder on 320 documents"``)."""

    def step(self, stage: str, done: int, total: int | None) -> None:
        """``done`` of ``total`` (None: unknown) units of counted work in ``stage``."""

    def epoch(self, stats: Any, total: int) -> None:
        """A training epoch ended: ``stats`` is a :class:`~docret.train.EpochStats`."""


SILENT = Progress()
