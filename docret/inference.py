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

    @property
    def output(self) -> tuple[np.ndarray, np.ndarray]:
        """The output layer: weight (H, V) and bias (V,)."""
        return self.layers[-1]

    def hidden(self, codes: np.ndarray) -> np.ndarray:
        """The output layer's input (N, H) for codes (N, D): every layer but the last."""
        h = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        for i, (weight, bias) in enumerate(self.layers[:-1]):
            h = (h if i == 0 else self.act(h)) @ weight + bias
        return h if len(self.layers) == 1 else self.act(h)

    def word_weights(self, codes: np.ndarray) -> np.ndarray:
        """(N, V) distributions over the vocabulary that the codes stand for.

        The output layer's bias is left out: it carries the corpus' overall word frequencies,
        the same for every code, so what remains is what this code adds.
        """
        h = self.hidden(codes) @ self.output[0]
        h = h - h.max(axis=1, keepdims=True)
        p = np.exp(h)
        return p / p.sum(axis=1, keepdims=True)

    def log_normalizers(self, hidden: np.ndarray) -> np.ndarray:
        """Each row's log-sum-exp (N,) of its output logits over the whole vocabulary, bias
        included: what turns a logit into a log-probability."""
        weight, bias = self.output
        logits = hidden @ weight + bias
        top = logits.max(axis=1)
        return top + np.log(np.exp(logits - top[:, None]).sum(axis=1))

    def likelihood_parts(
        self, codes: np.ndarray, chunk: int = 2048
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`hidden` and :meth:`log_normalizers` of every code, what
        :func:`~docret.rank.likelihood.query_likelihood` ranks with. ``chunk`` codes at a time, so
        that only the (N, H) result is held whole, never an (N, V) matrix."""
        n, width = len(codes), self.output[0].shape[0]
        hidden = np.empty((n, width), dtype=np.float32)
        log_norms = np.empty(n, dtype=np.float32)
        for start in range(0, n, chunk):
            h = self.hidden(codes[start : start + chunk])
            hidden[start : start + chunk] = h
            log_norms[start : start + chunk] = self.log_normalizers(h)
        return hidden, log_norms
