"""Latent semantic analysis: the leading singular directions of a corpus' tf-idf matrix.

The randomised SVD here serves twice: for the autoencoder's first-layer start
(:func:`docret.train.init_first_layer`), and for the directions whose cosine the default
ranking weighs beside the codes (:func:`directions`, :mod:`docret.rank.calibrate`). Numpy only: the
query path projects with the stored directions.
"""

from __future__ import annotations

import numpy as np

from docret.rank.base import normalize_rows

MAX_ROWS = 20_000  # documents the directions are computed from, at most


def sample_rows(x, max_rows: int, seed: int):
    """``x`` itself, or a seeded random sample of ``max_rows`` of its rows (in their order):
    a sample finds the leading directions as well, in bounded memory."""
    n = x.shape[0]
    if n <= max_rows:
        return x
    rows = np.random.default_rng(seed).choice(n, max_rows, replace=False)
    return x[np.sort(rows)]


def directions(tfidf, dims: int, seed: int, max_rows: int = MAX_ROWS) -> np.ndarray:
    """The ``dims`` leading right singular vectors (k, V) float32 of the CSR tf-idf matrix
    (k = ``dims``, or the matrix's rank if smaller)."""
    x = sample_rows(tfidf, max_rows, seed)
    k = min(dims, *x.shape)
    if k <= 0:
        return np.zeros((0, x.shape[1]), dtype=np.float32)
    return truncated_svd(x, k, seed)[1]


def project(tfidf, components: np.ndarray) -> np.ndarray:
    """Rows of a tf-idf matrix (scipy CSR or dense) in LSA space, unit length: (N, k) float32."""
    return normalize_rows(np.asarray(tfidf @ components.T, dtype=np.float32))


def truncated_svd(x, k: int, seed: int, n_iter: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest singular values and right singular vectors (k, V) of CSR ``x``.

    Randomised range finder (Halko, Martinsson & Tropp 2011) in float32 with ``n_iter`` power
    iterations: an initialisation needs the leading directions, not their last digits.
    """
    rng = np.random.default_rng(seed)
    n, v = x.shape
    if k + 10 >= min(n, v):  # small matrix: the exact decomposition is cheap
        _, s, vt = np.linalg.svd(x.toarray(), full_matrices=False)
        return s[:k].astype(np.float32), vt[:k].astype(np.float32)
    xt = x.T.tocsr()
    q = x @ rng.standard_normal((v, k + 10), dtype=np.float32)
    for _ in range(n_iter):
        q = x @ (xt @ np.linalg.qr(q)[0])
    b = np.asarray((xt @ np.linalg.qr(q)[0]).T)  # (k + 10, V): x projected on its range
    # The SVD of b through the eigenvectors of the small b b^T: one matrix product instead of
    # an SVD of a (k + 10) x V matrix.
    eigval, u = np.linalg.eigh((b @ b.T).astype(np.float64))
    top = np.argsort(eigval)[::-1][:k]
    s = np.sqrt(np.maximum(eigval[top], 1e-12))
    vt = (u[:, top].T.astype(np.float32) @ b) / s[:, None].astype(np.float32)
    return s.astype(np.float32), vt.astype(np.float32)
