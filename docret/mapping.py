"""A picture of the corpus: every document placed in 2-D, coloured by label.

The 2-D positions are a projection of the stored codes onto their first two principal
components (PCA: centred codes times the top two right singular vectors). The paper trained a
separate autoencoder with a 2-unit code for its figure; projecting the codes already stored
needs no training and shows the same structure the search uses. ``compare_lsa`` draws, beside
it, LSA's 2-D map: the first two singular directions of the stored tf-idf vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FIGSIZE = (9.0, 7.0)  # inches per panel
DPI = 120
MAX_LEGEND = 25  # beyond this many labels, the rarest are drawn grey as "other"


def pca_2d(codes: np.ndarray) -> np.ndarray:
    """(N, 2) projection of codes on their two main directions of variation."""
    x = np.asarray(codes, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    xy = x @ vt[:2].T
    if xy.shape[1] < 2:  # 1-dimensional codes: a line, drawn along x
        xy = np.hstack([xy, np.zeros((len(xy), 2 - xy.shape[1]))])
    return xy.astype(np.float32)


def lsa_2d(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, n_terms: int
) -> np.ndarray:
    """(N, 2) LSA coordinates: the tf-idf matrix on its first two singular directions."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    x = sp.csr_matrix((weights, indices, indptr), shape=(len(indptr) - 1, n_terms))
    u, s, _ = svds(x.astype(np.float64), k=2, random_state=0)
    order = np.argsort(-s)
    return (u[:, order] * s[order]).astype(np.float32)


def draw(
    panels: Sequence[tuple[str, np.ndarray]], labels: Sequence[str | None], out: str | Path
) -> None:
    """Scatter each panel's points coloured by label into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label or "(no label)" for label in labels]
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    shown = sorted(counts, key=lambda k: -counts[k])[:MAX_LEGEND]
    cmap = plt.get_cmap("tab20" if len(shown) > 10 else "tab10")
    colour = {label: cmap(i % cmap.N) for i, label in enumerate(sorted(shown))}
    n = len(labels)
    size = max(3.0, min(20.0, 40000 / max(n, 1)))  # small dots for big corpora, else a blob
    fig, axes = plt.subplots(
        1, len(panels), figsize=(FIGSIZE[0] * len(panels), FIGSIZE[1]), dpi=DPI
    )
    axes = np.atleast_1d(axes)
    label_array = np.array(labels, dtype=object)
    for ax, (title, xy) in zip(axes, panels, strict=True):
        other = ~np.isin(label_array, shown)
        if other.any():
            ax.scatter(xy[other, 0], xy[other, 1], s=size, c="lightgrey", label="other", lw=0)
        for label in sorted(shown):
            mask = label_array == label
            ax.scatter(
                xy[mask, 0], xy[mask, 1], s=size, color=colour[label], label=label, alpha=0.7, lw=0
            )
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    if len(shown) > 1 or shown != ["(no label)"]:
        axes[-1].legend(
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            markerscale=max(1, 6 / size**0.5),
            fontsize="small",
            frameon=False,
        )
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def draw_index(store: Any, state: Any, out: str | Path, compare_lsa: bool = False) -> np.ndarray:
    """Draw every document of an index (its ``store`` and loaded ``state``) in 2-D, coloured
    by label, to the PNG ``out``: the stored codes on their first two principal components,
    and with ``compare_lsa`` LSA's 2-D map beside them. Returns the (N, 2) code-map
    coordinates, in storage order."""
    xy = pca_2d(state.codes)
    panels = [(f"docret codes (D={state.encoder.code_size}), first two principal components", xy)]
    if compare_lsa:
        _, indptr, indices, weights = store.load_vectors()
        panels.append(
            ("LSA, 2 dimensions", lsa_2d(indptr, indices, weights, len(state.vectorizer.terms)))
        )
    labels = store.first_labels()
    draw(panels, [labels.get(i) for i in state.ids], out)
    return xy
