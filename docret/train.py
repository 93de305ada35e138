"""Training loop: seeding, device, minibatches over sparse rows, early stopping."""

from __future__ import annotations

import copy
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

# OpenMP threads that spin while waiting for each other burn the cores that a busy machine's
# other processes need, and wait on descheduled peers: training then slows down many times over
# (bench/speed.py, "Busy machines"). Sleeping at once costs little when the cores are free. It
# must be set before torch loads its OpenMP runtime; an explicit setting by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from docret.defaults import DEFAULTS, FIRST_LAYER_STARTS
from docret.lsa import MAX_ROWS, sample_rows, truncated_svd  # noqa: E402
from docret.model import (  # noqa: E402
    Autoencoder,
    SparseBatch,
    TouchedRows,
    corrupt,
    drop_inputs,
    sampled_softmax_cross_entropy,
)
from docret.optim import Adam, Plateau  # noqa: E402

SVD_MAX_ROWS = MAX_ROWS  # documents the first layer's truncated SVD is computed from, at most


@dataclass
class TrainConfig:
    """Optimisation settings (stored with the model as JSON)."""

    # A record of what was trained: the defaults are docret.defaults' (stated once there).
    epochs: int = DEFAULTS.epochs  # at most; early stopping usually ends sooner
    batch_size: int = DEFAULTS.batch_size
    lr: float = DEFAULTS.lr  # Adam
    weight_decay: float = DEFAULTS.weight_decay
    validation_fraction: float = DEFAULTS.validation_fraction  # held out for early stopping
    patience: int = DEFAULTS.patience  # epochs without held-out improvement before stopping
    negatives: int = DEFAULTS.negatives  # >0: the batch's words plus this many sampled; 0: all
    pretrain: bool = DEFAULTS.pretrain  # layer-wise pre-training (:func:`pretrain`) first
    query_fraction: float = DEFAULTS.query_fraction  # inputs replaced by a few of their words
    query_words: tuple[int, int] = (2, 12)  # how many words such a query-like input keeps
    # How pre-training starts the first layer: "svd" (truncated SVD of the tf-idf matrix),
    # "softmax" (3 epochs as a shallow autoencoder through the output softmax: better for
    # whole-document queries, worse for short ones), "svd-softmax" (the first, then the
    # second: the default, most of both; research/starts.py; binary codes take "svd") or
    # "lsa" (codes start as LSA)
    first_layer: str = DEFAULTS.first_layer
    seed: int = DEFAULTS.seed
    device: str = DEFAULTS.device  # "auto" takes CUDA when present
    threads: int = DEFAULTS.threads  # CPU threads while training (see :func:`cpu_threads`)

    def __post_init__(self) -> None:
        if self.first_layer not in FIRST_LAYER_STARTS:
            raise ValueError(f"first_layer must be one of {FIRST_LAYER_STARTS}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class EpochStats:
    """What one epoch did; a list of these is the training history."""

    epoch: int
    loss: float
    val_loss: float | None


EpochCallback = Callable[[EpochStats, int], None]  # (stats, total epochs)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so that the same inputs give the same codes."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def cpu_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` CPU threads in torch and in numpy's BLAS (0: leave them at
    torch's default, every core); restore them after.

    On two cores (bench/speed.py, "Busy machines"), two trainings at once with two threads
    each took 2.6 times as long as one alone, and with one thread each 1.2 times: every
    parallel step waits for its slowest, descheduled thread. Alone, or beside processes that
    do not synchronise threads, every core is the faster choice (25% on 2,000 20 Newsgroups
    documents), so that stays the default. The thread count also changes the last bits of the
    sums: the same seed gives the same codes at the same thread count.
    """
    if n <= 0:
        yield
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def resolve_device(name: str) -> torch.device:
    """``auto`` becomes CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_optimizer(params, config: TrainConfig) -> Adam:
    """Adam over ``params`` in one fused kernel (:class:`docret.optim.Adam`).

    With two V x 500 matrices the optimizer step costs more than the forward and backward
    passes; the fused kernel cuts it by more than half (profiled under bench/speed.py).
    """
    return Adam(params, lr=config.lr, weight_decay=config.weight_decay)


def fit(
    model: Autoencoder,
    inputs,
    targets,
    config: TrainConfig,
    callback: EpochCallback | None = None,
) -> list[EpochStats]:
    """Train ``model`` on CSR ``inputs`` to reconstruct CSR ``targets``; keep the best epoch.

    The rows are split once into a training part and a held-out part; after each epoch the
    held-out loss decides whether this is the best model so far, and training stops after
    ``patience`` epochs without improvement. The best weights are loaded back at the end.
    """
    device = resolve_device(config.device)
    model.to(device)
    rng = np.random.default_rng(config.seed)
    val_rows, train_rows = split_rows(inputs.shape[0], config, rng)
    noise_gen = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(model.parameters(), config)
    # Halve the step size when the held-out loss stalls: late epochs then refine instead of
    # bouncing around the minimum, and early stopping sees a clean signal.
    scheduler = Plateau(optimizer, factor=0.5, patience=1)

    model.input_rows = TouchedRows(model.input_weight)
    # With the full softmax every output row is used: nothing to save there.
    model.output_rows = TouchedRows(model.decoder[-1].weight) if config.negatives else None
    history: list[EpochStats] = []
    step = _Step(model, optimizer, noise_gen, config, device)
    best = _BestEpoch(config.patience)
    try:
        for epoch in range(1, config.epochs + 1):
            loss = _train_epoch(step, inputs, targets, rng.permutation(train_rows))
            stats = EpochStats(epoch, loss, None)
            if len(val_rows):
                stats.val_loss = evaluate_loss(model, inputs[val_rows], targets[val_rows], config)
            history.append(stats)
            if callback is not None:
                callback(stats, config.epochs)
            score = stats.val_loss if stats.val_loss is not None else stats.loss
            scheduler.step(score)
            if best.stop_after(model, score):
                break
    finally:  # a stopped training leaves the model as it found it
        model.input_rows = model.output_rows = None
    if best.state is not None:
        model.load_state_dict(best.state)
    model.eval()
    return history


@dataclass
class _Step:
    """What one optimisation step of :func:`fit` works with."""

    model: Autoencoder
    optimizer: Adam
    noise_gen: torch.Generator  # the corruption's and the sampled negatives' random numbers
    config: TrainConfig
    device: torch.device


def _train_epoch(step: _Step, inputs, targets, order: np.ndarray) -> float:
    """One epoch of :func:`fit` over the training rows in ``order``, by minibatches: corrupt
    the inputs, sample the negatives, take an optimizer step. The mean training loss."""
    model, config = step.model, step.config
    touched = [t for t in (model.input_rows, model.output_rows) if t is not None]
    model.train()
    total, seen = 0.0, 0
    for rows in _batches(order, config.batch_size):
        x = corrupt(
            SparseBatch.from_csr(inputs[rows]),
            model.config.noise,
            config.query_fraction,
            tuple(config.query_words),
            step.noise_gen,
        )
        negatives = (
            torch.randint(model.config.vocab_size, (config.negatives,), generator=step.noise_gen)
            if config.negatives
            else None
        )
        target = SparseBatch.from_csr(targets[rows]).to(step.device)
        _, loss = model(
            x.to(step.device), target, None if negatives is None else negatives.to(step.device)
        )
        step.optimizer.zero_grad()
        loss.backward()
        for table in touched:
            table.publish()
        step.optimizer.step()
        for table in touched:
            table.clear()
        total += loss.item() * len(rows)
        seen += len(rows)
    return total / max(seen, 1)


@dataclass
class _BestEpoch:
    """Early stopping: the best score so far, the weights that gave it, and the epochs since."""

    patience: int
    loss: float = float("inf")
    state: dict[str, torch.Tensor] | None = None
    stale: int = 0

    def stop_after(self, model: Autoencoder, score: float) -> bool:
        """Keep ``model``'s weights if ``score`` beats the best by more than 1e-4; whether
        ``patience`` epochs have now passed without such an improvement."""
        if score < self.loss - 1e-4:
            self.loss, self.state, self.stale = score, copy.deepcopy(model.state_dict()), 0
            return False
        self.stale += 1
        return self.stale >= self.patience


def split_rows(
    n: int, config: TrainConfig, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The held-out rows (sorted) and the training rows (shuffled) of :func:`fit`'s one split
    of ``n`` rows; ``rng`` defaults to a fresh generator seeded as :func:`fit` seeds its own."""
    rng = rng if rng is not None else np.random.default_rng(config.seed)
    order = rng.permutation(n)
    n_val = int(round(n * config.validation_fraction)) if n >= 20 else 0
    return np.sort(order[:n_val]), order[n_val:]


@torch.no_grad()
def evaluate_loss(model: Autoencoder, inputs, targets, config: TrainConfig) -> float:
    """Mean reconstruction loss without noise."""
    model.eval()
    device = next(model.parameters()).device
    total = 0.0
    for rows in _batches(np.arange(inputs.shape[0]), max(config.batch_size, 512)):
        x = SparseBatch.from_csr(inputs[rows]).to(device)
        _, loss = model(x, SparseBatch.from_csr(targets[rows]).to(device))
        total += loss.item() * len(rows)
    return total / inputs.shape[0]


@torch.no_grad()
def encode(
    model: Autoencoder,
    inputs,
    batch_size: int = 1024,
    on_progress: Callable[[str, int, int | None], None] | None = None,
) -> np.ndarray:
    """Codes of every CSR row, as float32 (N, D); ``on_progress("Encoding", done, total)``."""
    model.eval()
    device = next(model.parameters()).device
    n = inputs.shape[0]
    out = []
    for rows in _batches(np.arange(n), batch_size):
        out.append(model.encode(SparseBatch.from_csr(inputs[rows]).to(device)).cpu().numpy())
        if on_progress is not None:
            on_progress("Encoding", int(rows[-1]) + 1, n)
    d = model.config.code_size
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, d), np.float32)


def _batches(rows: np.ndarray, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def pretrain(
    model: Autoencoder,
    inputs,
    targets,
    config: TrainConfig,
    epochs: int = 3,
    callback: Callable[[str, int, float], None] | None = None,
) -> list[dict[str, Any]]:
    """Layer-wise initialisation, in the spirit of Hinton & Salakhutdinov (2006).

    The first layer starts from what the corpus gives for free: the leading singular vectors
    of the tf-idf matrix (:func:`init_first_layer`), in seconds rather than epochs. With
    ``first_layer="lsa"`` (float codes) every layer above then starts as the identity on its
    leading units (:func:`init_identity`), so that the code starts as LSA's leading
    directions. Otherwise each further layer that is narrower than the one below is trained
    as a shallow autoencoder whose decoder is the mirrored layer of the deep model,
    reconstructing the pre-activations of the layer below (mean squared error) from its own.
    Those are computed batch by batch from the sparse input, so no N x H matrix of
    activations is ever held. The caller then fine-tunes the whole (:func:`fit`). Returns
    what each initialised layer reached.
    """
    device = resolve_device(config.device)
    model.to(device)
    rng = np.random.default_rng(config.seed)
    n = inputs.shape[0]
    act = model.act
    if config.first_layer in ("svd", "svd-softmax", "lsa"):
        # "lsa": float codes keep LSA's proportions (the leading directions weigh most) for
        # the identity start to pass on; binary codes keep the whitened start of "svd".
        whiten = config.first_layer != "lsa" or model.config.binary
        explained = init_first_layer(model, inputs, config.seed, whiten=whiten)
        history: list[dict[str, Any]] = [{"layer": 1, "explained": explained}]
        if config.first_layer == "svd-softmax" and not model.config.binary:
            # The SVD start serves short queries; a few epochs through the output softmax
            # from there bring back most of what whole-document queries lost to it
            # (research/starts.py, research/FINDINGS.md). Measured for float codes only: binary
            # codes keep the start of "svd", whose units the code noise saturates better.
            history[0]["loss"] = _pretrain_first_layer(model, inputs, targets, config, epochs)
            if callback:
                callback("layer 1", epochs, history[0]["loss"])
        if not whiten:
            units = min(model.input_weight.shape[1], min(n, SVD_MAX_ROWS), inputs.shape[1])
            init_identity(model, units)
            return history + [{"layer": k + 2, "identity": True} for k in range(len(model.encoder))]
    else:
        history = [
            {"layer": 1, "loss": _pretrain_first_layer(model, inputs, targets, config, epochs)}
        ]
        if callback:
            callback("layer 1", epochs, history[0]["loss"])
    n_stages = len(model.encoder) + 1
    for k in range(1, n_stages):
        enc = model.encoder[k - 1]
        dec = model.decoder[n_stages - 1 - k]
        # A layer at least as wide as the one below can simply copy it: as a shallow
        # autoencoder it learns (nearly) the identity, a poor start that fine-tuning keeps. Such
        # a layer (say a 128-unit code above 125 units) keeps its random initialisation.
        if enc.out_features >= enc.in_features:
            continue
        is_code = k == n_stages - 1
        optimizer = make_optimizer([*enc.parameters(), *dec.parameters()], config)
        for epoch in range(1, epochs + 1):
            total = 0.0
            for rows in _batches(rng.permutation(n), config.batch_size):
                with torch.no_grad():
                    below = model.first_layer(SparseBatch.from_csr(inputs[rows]).to(device))
                    for layer in model.encoder[: k - 1]:
                        below = layer(act(below))
                z = enc(act(below))
                loss = F.mse_loss(dec(z if is_code else act(z)), below)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            if callback:
                callback(f"layer {k + 1}", epoch, total / n)
        history.append({"layer": k + 1, "loss": total / n})
    return history


def _pretrain_first_layer(
    model: Autoencoder, inputs, targets, config: TrainConfig, epochs: int = 3, l1: float = 1e-3
) -> float:
    """Train the first layer as a shallow autoencoder through the output softmax; its loss.

    The former start (``first_layer="softmax"``): sampled softmax as in :func:`fit`, with an L1
    penalty that keeps the hidden units sparse.
    """
    device = next(model.parameters()).device
    rng = np.random.default_rng(config.seed)
    noise_gen = torch.Generator().manual_seed(config.seed)
    out_layer = model.decoder[-1]
    params = [model.input_weight, model.input_bias, *out_layer.parameters()]
    optimizer = make_optimizer(params, config)
    n = inputs.shape[0]
    for _ in range(epochs):
        total = 0.0
        for rows in _batches(rng.permutation(n), config.batch_size):
            x = drop_inputs(SparseBatch.from_csr(inputs[rows]), model.config.noise, noise_gen)
            h = model.act(model.first_layer(x.to(device)))
            target = SparseBatch.from_csr(targets[rows]).to(device)
            negatives = torch.randint(
                out_layer.out_features, (max(config.negatives, 1),), generator=noise_gen
            )
            loss = sampled_softmax_cross_entropy(h, out_layer, target, negatives.to(device))
            loss = loss + l1 * h.abs().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
    return total / n


@torch.no_grad()
def init_first_layer(model: Autoencoder, inputs, seed: int, whiten: bool = True) -> float:
    """Set the first layer to the leading right singular vectors of ``inputs`` (tf-idf rows).

    Unit j reads the document's coordinate on the j-th singular direction (what LSA keeps).
    With ``whiten`` each unit is scaled to unit variance over the corpus, the scale the random
    initialisation gives; without, all by the one factor that gives the first unit unit
    variance, so the units keep LSA's proportions. Units beyond the matrix's rank keep their
    random weights. Above ``SVD_MAX_ROWS``
    documents the directions come from a random sample of that many, so that the (rows x width)
    work matrices stay small however large the corpus. Returns the share of the (sampled)
    matrix's squared norm that the directions capture.
    """
    inputs = sample_rows(inputs, SVD_MAX_ROWS, seed)
    n = inputs.shape[0]
    width = model.input_weight.shape[1]
    k = min(width, *inputs.shape)
    singular, components = truncated_svd(inputs, k, seed)
    scale = np.sqrt(n) / np.maximum(singular if whiten else singular[:1], 1e-6)
    weight = torch.from_numpy((components.T * scale).astype(np.float32))
    model.input_weight[:, :k] = weight.to(model.input_weight.device)
    model.input_bias.zero_()
    total = float(inputs.multiply(inputs).sum())
    return float((singular**2).sum() / total) if total > 0 else 0.0


@torch.no_grad()
def init_identity(model: Autoencoder, units: int) -> None:
    """Start every layer above the first, encoder and mirrored decoder alike (not the output
    layer), as the identity on its leading units, the rest zero, biases zero.

    The code then starts as the first layer's leading D units, and with the first layer on
    the tf-idf matrix's singular directions (unscaled, :func:`init_first_layer`), that is
    LSA's leading D directions, passed through the activations. Fine-tuning starts from LSA
    rather than from what shallow autoencoders of whitened units give, codes that rank far
    below it (Cranfield MAP 0.031 before fine-tuning, measured with research/tune_model.py). Only
    the first ``units`` units of the first layer (its singular directions) are passed on.
    """
    layers = [*model.encoder, *list(model.decoder)[:-1]]
    for i, layer in enumerate(layers):
        layer.weight.zero_()
        layer.bias.zero_()
        n = min(layer.out_features, layer.in_features, units if i == 0 else layer.in_features)
        layer.weight[:n, :n] = torch.eye(n, device=layer.weight.device)
