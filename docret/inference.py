"""Encode with numpy from stored weights: the query path, with no torch import.

:class:`NumpyEncoder` repeats :meth:`docret.model.Autoencoder.encode` step by step; a test
checks that both give the same codes within 1e-5.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from docret.text import SparseVector


def _sigmoid(h: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-h))


# numpy versions of docret.defaults.ACTIVATIONS (a test checks that the names agree)
NUMPY_ACTIVATIONS = {"relu": lambda h: np.maximum(h, 0.0), "tanh": np.tanh, "sigmoid": _sigmoid}


class NumpyEncoder:
    """The encoder half of a stored autoencoder, evaluated with numpy."""

    def __init__(self, config: Mapping, weights: Mapping[str, np.ndarray]) -> None:
        self.config = dict(config)
        self.act = NUMPY_ACTIVATIONS[self.config["activation"]]
        self.input_weight = np.ascontiguousarray(weights["input_weight"], dtype=np.float32)
        self.input_bias = np.asarray(weights["input_bias"], dtype=np.float32)
        n_layers = len(self.config["hidden"])
        # nn.Linear stores (out, in); keep the transpose so a row vector multiplies directly.
        self.layers = [
            (
                np.ascontiguousarray(weights[f"encoder.{i}.weight"].T, dtype=np.float32),
                np.asarray(weights[f"encoder.{i}.bias"], dtype=np.float32),
            )
            for i in range(n_layers)
        ]

    @property
    def code_size(self) -> int:
        """D."""
        return int(self.config["code_size"])

    def encode(self, vectors: Sequence[SparseVector]) -> np.ndarray:
        """Codes (N, D), float32, of sparse tf-idf vectors."""
        h = np.empty((len(vectors), self.input_weight.shape[1]), dtype=np.float32)
        for row, v in enumerate(vectors):
            # The first layer is a weighted sum of the rows of the words present.
            h[row] = v.values @ self.input_weight[v.indices]
        h += self.input_bias
        for weight, bias in self.layers:
            h = self.act(h) @ weight + bias
        if self.binary:
            h = _sigmoid(h)
        return h.astype(np.float32)

    @property
    def binary(self) -> bool:
        """Whether codes are logistic units meant to be thresholded into bits."""
        return bool(self.config.get("binary", False))


class NumpyDecoder:
    """The decoder half of a stored autoencoder: codes back to word weights, with numpy."""

    def __init__(self, config: Mapping, weights: Mapping[str, np.ndarray]) -> None:
        self.act = NUMPY_ACTIVATIONS[config["activation"]]
        n_layers = len(config["hidden"]) + 1
        self.layers = [
            (
                np.ascontiguousarray(weights[f"decoder.{i}.weight"].T, dtype=np.float32),
                np.asarray(weights[f"decoder.{i}.bias"], dtype=np.float32),
            )
            for i in range(n_layers)
        ]

    def word_weights(self, codes: np.ndarray) -> np.ndarray:
        """(N, V) distributions over the vocabulary that the codes stand for.

        The output layer's bias is left out: it carries the corpus' overall word frequencies,
        the same for every code, so what remains is what this code adds.
        """
        h = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        for i, (weight, bias) in enumerate(self.layers):
            h = h if i == 0 else self.act(h)
            h = h @ weight + (bias if i < len(self.layers) - 1 else 0.0)
        h = h - h.max(axis=1, keepdims=True)
        p = np.exp(h)
        return p / p.sum(axis=1, keepdims=True)
