"""The "likelihood" ranking: the codes alone, by the decoder's likelihood of the query's words
given each document's code, with some of the code cosine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from docret.rank.base import Scored, min_max, normalize_rows, scored, vectorize

if TYPE_CHECKING:
    from docret.snapshot import Snapshot


def query_likelihood(
    hidden: np.ndarray,
    log_norms: np.ndarray,
    output: tuple[np.ndarray, np.ndarray],
    indices: np.ndarray,
    values: np.ndarray,
) -> np.ndarray:
    """Each document's mean log-probability (N,) of the query's words under the word
    distribution its code decodes to, the words weighted by the query's ``values`` (tf-idf).

    The decoder's softmax gives log p(w | d) = logit_dw - log_norms_d, and the logits are the
    output layer over ``hidden`` (N, H): so the query's words need only their own columns of
    the output ``(weight (H, V), bias (V,))``, and ranking is one (N, H) product. A query
    likelihood over a learned, smoothed document model (a short query's words are predicted
    by the document's topic, not only matched), from the codes alone.
    """
    weight, bias = output
    share = np.asarray(values, dtype=np.float32)
    share = share / share.sum()
    return hidden @ (weight[:, indices] @ share) + float(bias[indices] @ share) - log_norms


def query_likelihoods(
    hidden: np.ndarray, log_norms: np.ndarray, output: tuple[np.ndarray, np.ndarray], queries
) -> np.ndarray:
    """:func:`query_likelihood` of each row (Q, N) of ``queries``, a sparse CSR matrix over
    the model's vocabulary (their tf-idf); a row with no word scores 0 everywhere."""
    rows = []
    for i in range(queries.shape[0]):
        row = queries[i]
        if row.nnz == 0:  # no word in the model's vocabulary: nothing to rank by
            rows.append(np.zeros(len(hidden), dtype=np.float32))
        else:
            rows.append(query_likelihood(hidden, log_norms, output, row.indices, row.data))
    return np.stack(rows)


# The "likelihood" ranking adds this much of the code cosine to the likelihood (each min-max
# scaled per query): chosen on research/likelihood.py's validation queries, where 0.25 kept the
# likelihood's lead on the titles (Cranfield MRR 0.485 vs 0.482 alone and 0.377 for the cosine
# alone, NPL 0.130 vs 0.132 and 0.094) and passed both alone on 20 Newsgroups' subject lines
# (P@10 0.621 vs 0.607 and 0.613); 0.5 did better on 20 Newsgroups and lost on the titles.
LIKELIHOOD_COSINE = 0.25


def likelihood_ranking(
    likelihood: np.ndarray, cosine: np.ndarray, weight: float = LIKELIHOOD_COSINE
) -> np.ndarray:
    """The "likelihood" ranking's scores: :func:`query_likelihood`'s and the code cosine's,
    each min-max scaled per query (row), ``1 - weight`` and ``weight`` of them. The
    likelihood finds documents for a few typed words; the cosine keeps their topic, which the
    likelihood alone loses on longer queries."""
    return (1.0 - weight) * min_max(likelihood) + weight * min_max(cosine)


def likelihood(
    state: Snapshot,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    allowed: np.ndarray | None = None,
) -> list[Scored]:
    """The codes alone, by the decoder's likelihood of the query's words given each
    document's code (:func:`query_likelihood`) with some of the code cosine
    (:func:`likelihood_ranking`); scores lie in [0, 1]."""
    out = []
    for text in texts:
        vec = vectorize(state, text)
        hidden, log_norms = state.decoded
        words = query_likelihood(hidden, log_norms, state.decoder.output, vec.indices, vec.values)
        cosine = state.unit_codes @ normalize_rows(state.encoder.encode([vec]))[0]
        out.append(scored(likelihood_ranking(words, cosine), k, allowed=allowed))
    return out
