"""The "lsa" ranking: latent semantic analysis (Deerwester et al., 1990), the cosine of the
query's and the documents' tf-idf vectors projected on the model's LSA directions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret.errors import QueryError
from docret.rank.base import Scored, scored, vectorize

if TYPE_CHECKING:
    from docret.snapshot import Snapshot


def lsa(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """The LSA cosine alone."""
    if state.lsa is None:
        raise QueryError(
            "This index has no LSA directions (a binary index, one built with --lsa-dims "
            "0, or one built before docret kept them: 'docret retrain' adds them)"
        )
    return [
        scored(state.unit_lsa @ state.lsa_of(vectorize(state, t)), k, allowed=allowed)
        for t in texts
    ]
