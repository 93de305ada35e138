"""Every default setting of docret, stated once, each with its one-line help.

The CLI's options, :class:`~docret.encoder.Encoder`'s arguments and the evaluation read them
here, and the tests derive their fast settings from them. What a model was actually trained
with is stored with it (:meth:`docret.encoder.Encoder.get_settings`), and ``retrain`` starts
from that, not from these. This module imports nothing, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

ACTIVATIONS = ("relu", "tanh", "sigmoid")  # between hidden layers; the code layer is linear
# How pre-training starts the first layer (docret.train.pretrain).
FIRST_LAYER_STARTS = ("svd-softmax", "svd", "softmax", "lsa")


def _default(value, help: str):  # noqa: A002 - the word the CLI uses
    return field(default=value, metadata={"help": help})


@dataclass(frozen=True)
class Defaults:
    """The settings an :class:`~docret.encoder.Encoder` (and ``docret index``) starts from."""

    # vocabulary
    vocab_size: int = _default(10_000, "Keep this many most frequent terms")
    min_df: int | float = _default(2, "Drop terms in fewer documents (count or fraction)")
    max_df: int | float = _default(0.5, "Drop terms in more documents (count or fraction)")
    stemmer: str = _default("porter", "How words are reduced to terms")
    # autoencoder
    hidden: tuple[int, ...] = _default((500, 250, 125), "Encoder layer widths, comma-separated")
    code_size: int = _default(32, "D, size of each document's code")
    activation: str = _default("tanh", "Between hidden layers (the code layer is linear)")
    noise: float = _default(0.7, "Denoising: chance of dropping each input word")
    code_l2: float = _default(0.0, "L2 penalty on float codes (not used with --binary)")
    binary: bool = _default(False, "Semantic hashing: logistic code units thresholded to bits")
    code_noise: float = _default(4.0, "Binary codes: std of the noise added before the code units")
    # training
    epochs: int = _default(50, "Most training epochs (early stopping may end sooner)")
    batch_size: int = _default(64, "Documents per minibatch")
    lr: float = _default(2e-3, "Adam learning rate")
    weight_decay: float = _default(0.0, "Adam weight decay")
    validation_fraction: float = _default(0.1, "Share of documents held out for early stopping")
    patience: int = _default(5, "Stop after this many epochs without held-out improvement")
    negatives: int = _default(
        500, "Sampled softmax: the batch's words plus this many random ones (0: whole vocabulary)"
    )
    pretrain: bool = _default(True, "Pre-train layer by layer (shallow autoencoders) first")
    query_fraction: float = _default(
        0.3, "Share of training inputs cut to 2-12 of their words, like a typed query"
    )
    first_layer: str = _default(
        "svd-softmax",
        "Pre-training's start: svd-softmax (svd, then softmax), svd (of tf-idf), softmax, lsa",
    )
    lsa_dims: int = _default(
        128, "LSA dimensions the default ranking weighs beside the codes (0: codes only)"
    )
    seed: int = _default(0, "Same seed, same corpus: same codes")
    device: str = _default("auto", "auto, cpu, cuda, ... (auto takes CUDA when present)")
    threads: int = _default(
        0, "CPU threads while training (0: every core; 1 when other trainings share the cores)"
    )

    def as_dict(self) -> dict:
        """Every setting by name (the keyword arguments of ``Encoder``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def help(name: str) -> str:
        """The one-line help of setting ``name``."""
        return next(f.metadata["help"] for f in fields(Defaults) if f.name == name)


DEFAULTS = Defaults()

MAX_SEED = 2**32 - 1  # numpy's seeds are unsigned 32-bit

# Command-line defaults that are not model settings.
DATABASE = "docret.db"  # -d/--database, unless DOCRET_DB says otherwise
LIMIT = 10  # results of query and similar
WORDS_LIMIT = 15  # words shown by explain and words
