"""Every default setting of docret, stated once, each with its one-line help.

The CLI's options, :class:`~docret.encoder.Encoder`'s arguments and the evaluation read them
here, and the tests derive their fast settings from them. What a model was actually trained
with is stored with it (:meth:`docret.encoder.Encoder.get_settings`), and ``retrain`` starts
from that, not from these. The bounds of each setting are stated here too, and
:func:`check_settings` is the one check of them that the CLI and the Python API share. This
module imports nothing (its error class only when a setting is refused), so anything may
import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from numbers import Integral, Real
from typing import Any

ACTIVATIONS = ("relu", "tanh", "sigmoid")  # between hidden layers; the code layer is linear
# How pre-training starts the first layer (docret.train.pretrain).
FIRST_LAYER_STARTS = ("svd-softmax", "svd", "softmax", "lsa")


# The bounds below are checked by :func:`check_settings` for the Python API and by the CLI's
# options (exit 2) before anything is read. NaN and infinities are never accepted; the upper
# bounds lie far beyond any useful value and refuse those that could only exhaust memory or
# make training diverge (inf or NaN weights).
MAX_WIDTH = 10_000  # a layer or code: 10,000 x 10,000 float weights are already 400 MB
MAX_VOCAB_SIZE = 1_000_000  # the first layer holds vocab_size x hidden[0] weights
# The model reconstructs the words of each document through its code: with fewer terms than
# this, or no more terms than the code has dimensions, the code can copy its input and
# learns nothing about which words occur together (a 1-term model trains to loss 0).
MIN_VOCAB_SIZE = 10
# Adam moves each weight by about lr per step whatever the gradient's scale, and the weights
# start near 1/sqrt(width) (well under 1): a rate above 1 already jumps past any weight's
# scale every step; 10 leaves room for experiments and refuses rates that overflow to inf.
MAX_LR = 10.0
# Sampled softmax draws this many random words (with replacement) from the vocabulary each
# batch: beyond 100,000 the draws only repeat words of the vocabularies the defaults build
# (10,000 terms), and a count like 10^12 would need terabytes. 0 means the whole vocabulary.
MAX_NEGATIVES = 100_000
MAX_SEED = 2**32 - 1  # numpy's seeds are unsigned 32-bit
MAX_COUNT = 1_000_000  # epochs, patience, batch size, threads: far beyond any useful value
MAX_PENALTY = 1_000.0  # code_l2, code_noise, weight_decay: beyond this the term alone decides


def _default(  # noqa: PLR0913 - one bound per keyword
    value,
    help: str,  # noqa: A002 - the word the CLI uses
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
):
    bounds = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    return field(default=value, metadata={"help": help, "bounds": bounds})


@dataclass(frozen=True)
class Defaults:
    """The settings an :class:`~docret.encoder.Encoder` (and ``docret index``) starts from."""

    # vocabulary
    vocab_size: int = _default(
        10_000, "Keep this many most frequent terms", low=MIN_VOCAB_SIZE, high=MAX_VOCAB_SIZE
    )
    min_df: int | float = _default(2, "Drop terms in fewer documents (count or fraction)")
    max_df: int | float = _default(0.5, "Drop terms in more documents (count or fraction)")
    stemmer: str = _default("porter", "How words are reduced to terms")
    # autoencoder
    hidden: tuple[int, ...] = _default((500, 250, 125), "Encoder layer widths, comma-separated")
    code_size: int = _default(32, "D, size of each document's code", low=1, high=MAX_WIDTH)
    activation: str = _default("tanh", "Between hidden layers (the code layer is linear)")
    noise: float = _default(
        0.7, "Denoising: chance of dropping each input word", low=0, high=1, high_open=True
    )
    code_l2: float = _default(
        0.0, "L2 penalty on float codes (not used with --binary)", low=0, high=MAX_PENALTY
    )
    binary: bool = _default(False, "Semantic hashing: logistic code units thresholded to bits")
    code_noise: float = _default(
        4.0,
        "Binary codes: std of the noise added before the code units",
        low=0,
        high=MAX_PENALTY,
    )
    # training
    epochs: int = _default(
        50, "Most training epochs (early stopping may end sooner)", low=1, high=MAX_COUNT
    )
    batch_size: int = _default(64, "Documents per minibatch", low=1, high=MAX_COUNT)
    lr: float = _default(2e-3, "Adam learning rate", low=0, low_open=True, high=MAX_LR)
    weight_decay: float = _default(0.0, "Adam weight decay", low=0, high=MAX_PENALTY)
    validation_fraction: float = _default(
        0.1, "Share of documents held out for early stopping", low=0, high=1, high_open=True
    )
    patience: int = _default(
        5, "Stop after this many epochs without held-out improvement", low=1, high=MAX_COUNT
    )
    negatives: int = _default(
        500,
        "Sampled softmax: the batch's words plus this many random ones (0: whole vocabulary)",
        low=0,
        high=MAX_NEGATIVES,
    )
    pretrain: bool = _default(True, "Pre-train layer by layer (shallow autoencoders) first")
    query_fraction: float = _default(
        0.3,
        "Share of training inputs cut to 2-12 of their words, like a typed query",
        low=0,
        high=1,
        high_open=True,
    )
    first_layer: str = _default(
        "svd-softmax",
        "Pre-training's start: svd-softmax (svd, then softmax), svd (of tf-idf), softmax, lsa",
    )
    lsa_dims: int = _default(
        128,
        "LSA dimensions the default ranking weighs beside the codes (0: codes only)",
        low=0,
        high=MAX_WIDTH,
    )
    seed: int = _default(0, "Same seed, same corpus: same codes", low=0, high=MAX_SEED)
    device: str = _default("auto", "auto, cpu, cuda, ... (auto takes CUDA when present)")
    threads: int = _default(
        0,
        "CPU threads while training (0: every core; 1 when other trainings share the cores)",
        low=0,
        high=MAX_COUNT,
    )

    def as_dict(self) -> dict:
        """Every setting by name (the keyword arguments of ``Encoder``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @staticmethod
    def help(name: str) -> str:
        """The one-line help of setting ``name``."""
        return next(f.metadata["help"] for f in fields(Defaults) if f.name == name)


DEFAULTS = Defaults()


CHOICES = {"activation": ACTIVATIONS, "first_layer": FIRST_LAYER_STARTS}
FLAGS = ("binary", "pretrain")


def _shown(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _requirement(name: str, whole: bool) -> str:
    b = next(f.metadata["bounds"] for f in fields(Defaults) if f.name == name)
    kind = "a whole number" if whole else "a number"
    low = ("above " if b["low_open"] else "at least ") + _shown(b["low"])
    high = ("below " if b["high_open"] else "at most ") + _shown(b["high"])
    return f"{kind} {low} and {high}"


def _in_bounds(name: str, value: Any, whole: bool) -> bool:
    b = next(f.metadata["bounds"] for f in fields(Defaults) if f.name == name)
    if isinstance(value, bool) or not isinstance(value, Integral if whole else Real):
        return False
    if not whole and not math.isfinite(value):  # NaN passes every comparison below
        return False
    above = value > b["low"] if b["low_open"] else value >= b["low"]
    below = value < b["high"] if b["high_open"] else value <= b["high"]
    return above and below


def _df_ok(value: Any) -> bool:
    """A document count of at least 1, or a fraction from 0 to 1 (as scikit-learn reads them)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Integral):
        return value >= 1
    return isinstance(value, Real) and 0.0 <= value <= 1.0  # False for NaN


DF_REQUIREMENT = "a document count of at least 1 (e.g. 2) or a fraction from 0 to 1 (e.g. 0.5)"
HIDDEN_REQUIREMENT = f"whole numbers from 1 to {MAX_WIDTH:,}, e.g. 500,250,125"


def check_setting(name: str, value: Any) -> Any:
    """``value`` if it is within the bounds of setting ``name``, else :class:`SettingError`
    with one line naming the setting, what it must be and the value given."""
    from docret.errors import SettingError

    def refuse(requirement: str) -> SettingError:
        return SettingError(name, f"{name} must be {requirement}, not {value!r}")

    if name not in DEFAULTS.as_dict():
        raise SettingError(name, f"unknown setting {name!r}")
    default = getattr(DEFAULTS, name)
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise refuse("one of " + ", ".join(CHOICES[name]))
    elif name in FLAGS:
        if not isinstance(value, bool):
            raise refuse("True or False")
    elif name in ("min_df", "max_df"):
        if not _df_ok(value):
            raise refuse(DF_REQUIREMENT)
    elif name == "hidden":
        widths = value if isinstance(value, (tuple, list)) else ()
        if not widths or not all(_in_bounds("code_size", w, True) for w in widths):
            raise refuse(HIDDEN_REQUIREMENT)
    elif isinstance(default, (int, float)) and not isinstance(default, bool):
        whole = isinstance(default, int)
        if not _in_bounds(name, value, whole):
            raise refuse(_requirement(name, whole))
    return value


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` (a whole or partial set of :class:`Defaults` fields) if each is within its
    bounds and they fit together, else :class:`SettingError`. The device and the stemmer are
    checked where they are used (they depend on the machine and the text module)."""
    from docret.errors import SettingError

    for name, value in settings.items():
        check_setting(name, value)
    vocab_size = settings.get("vocab_size", DEFAULTS.vocab_size)
    code_size = settings.get("code_size", DEFAULTS.code_size)
    if vocab_size <= code_size:
        raise SettingError(
            "vocab_size",
            f"vocab_size must be larger than code_size ({code_size:,}): a code as wide as its "
            f"vocabulary can copy its input and learns nothing, not {vocab_size!r}",
        )
    return settings


# Command-line defaults that are not model settings.
DATABASE = "docret.db"  # -d/--database, unless DOCRET_DB says otherwise
LIMIT = 10  # results of query and similar
WORDS_LIMIT = 15  # words shown by explain and words
