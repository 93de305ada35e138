"""The deep autoencoder: bag-of-words in, a D-dimensional code in the middle, words out.

Encoder ``V -> hidden... -> D`` and a mirrored decoder ``D -> ...hidden -> V``. The decoder
ends in a softmax over the vocabulary and the loss is the cross-entropy against each
document's word distribution, the natural likelihood for word counts (as in the replicated
softmax of Salakhutdinov & Hinton). The first layer reads sparse input through
``embedding_bag``, so its cost scales with the words a document has, not with V.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from docret.defaults import ACTIVATIONS, DEFAULTS


@dataclass
class AutoencoderConfig:
    """Shape and regularisation of the autoencoder (stored with the model as JSON)."""

    # A record of what was trained: the defaults are docret.defaults' (stated once there).
    vocab_size: int
    hidden: tuple[int, ...] = DEFAULTS.hidden  # encoder widths; the decoder mirrors them
    code_size: int = DEFAULTS.code_size  # D, the size of a document's code
    activation: str = DEFAULTS.activation  # between layers; the code layer itself is linear
    noise: float = DEFAULTS.noise  # denoising: chance of dropping each input word while training
    code_l2: float = DEFAULTS.code_l2  # L2 penalty on float codes (binary codes: none)
    binary: bool = DEFAULTS.binary  # semantic hashing: logistic code units, thresholded to bits
    code_noise: float = DEFAULTS.code_noise  # binary only: std of the noise before the code units

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, not {self.activation!r}")
        if not 0.0 <= self.noise < 1.0:
            raise ValueError("noise must be in [0, 1)")
        if self.code_size < 1 or any(h < 1 for h in self.hidden):
            raise ValueError("layer sizes must be positive")

    @property
    def sizes(self) -> list[int]:
        """Widths from input to code: ``[V, *hidden, D]``."""
        return [self.vocab_size, *self.hidden, self.code_size]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AutoencoderConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SparseBatch:
    """A minibatch of sparse rows in ``embedding_bag`` form (CSR without the last pointer)."""

    indices: torch.Tensor  # (nnz,) int64 term ids
    offsets: torch.Tensor  # (B,) int64 start of each row in indices
    values: torch.Tensor  # (nnz,) float32 weights
    size: int = field(default=0)  # B

    def to(self, device: torch.device | str) -> SparseBatch:
        """The same batch on ``device``."""
        return SparseBatch(
            self.indices.to(device), self.offsets.to(device), self.values.to(device), self.size
        )

    @classmethod
    def from_csr(cls, x) -> SparseBatch:
        """From a scipy CSR matrix (rows are documents)."""
        return cls(
            torch.from_numpy(x.indices.astype("int64")),
            torch.from_numpy(x.indptr[:-1].astype("int64")),
            torch.from_numpy(x.data.astype("float32")),
            x.shape[0],
        )


def activation(name: str):
    """The activation function called ``name``."""
    return {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[name]


class Autoencoder(nn.Module):
    """Encoder and decoder; ``forward`` returns codes and the training loss."""

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        sizes = config.sizes
        # First layer as a (V, H) table read by embedding_bag: a sparse product with the input.
        self.input_weight = nn.Parameter(torch.empty(sizes[0], sizes[1]))
        self.input_bias = nn.Parameter(torch.zeros(sizes[1]))
        self.encoder = nn.ModuleList(
            nn.Linear(sizes[i], sizes[i + 1]) for i in range(1, len(sizes) - 1)
        )
        rev = sizes[::-1]
        self.decoder = nn.ModuleList(nn.Linear(rev[i], rev[i + 1]) for i in range(len(rev) - 1))
        # Inputs are L2-normalised, so the first layer's outputs have the weights' own scale
        # (not 1/sqrt(V) of it, as nn.Linear's default init would give): unit variance keeps
        # the signal alive through the deeper layers instead of leaving it to the biases.
        nn.init.normal_(self.input_weight, std=1.0)
        # Scale each layer by its activation's gain over sqrt(fan-in) (He init for ReLU) so the
        # signal keeps its size through the layers. PyTorch's default shrinks it at every
        # layer: after the eight layers of the default model the output barely depends on the
        # input and training stalls on a long plateau.
        gain = nn.init.calculate_gain(config.activation)
        for layer in [*self.encoder, *self.decoder]:
            nn.init.normal_(layer.weight, std=gain / layer.in_features**0.5)
            nn.init.zeros_(layer.bias)
        self.act = activation(config.activation)
        # While training (:func:`docret.train.fit`), the two V-row tables take their gradients
        # through these, touching only the rows a minibatch uses (see :class:`TouchedRows`).
        self.input_rows: TouchedRows | None = None
        self.output_rows: TouchedRows | None = None

    @torch.no_grad()
    def init_output_bias(self, word_frequencies) -> None:
        """Set the output bias to the log of the mean word distribution (softmax's prior)."""
        freq = torch.as_tensor(word_frequencies, dtype=torch.float32)
        self.decoder[-1].bias.copy_(torch.log(freq.clamp_min(1e-8) / freq.sum()))

    def first_layer(self, x: SparseBatch) -> torch.Tensor:
        """Pre-activations of the first hidden layer, (B, H1): a weighted sum of word rows."""
        if self.input_rows is not None and torch.is_grad_enabled():
            # The batch's own rows as a small table; ids renumbered in the same order, so the
            # sums (and their gradients) are the same as over the whole table.
            rows, local = torch.unique(x.indices, return_inverse=True)
            table, indices = self.input_rows.gather(rows), local
        else:
            table, indices = self.input_weight, x.indices
        h = F.embedding_bag(indices, table, x.offsets, mode="sum", per_sample_weights=x.values)
        return h + self.input_bias

    def encode(self, x: SparseBatch) -> torch.Tensor:
        """Codes of a sparse batch: (B, D)."""
        h = self.first_layer(x)
        for layer in self.encoder:
            h = layer(self.act(h))
        if not self.config.binary:
            return h  # (B, D), linear code layer
        # Semantic hashing (Salakhutdinov & Hinton 2009): noise before logistic code units
        # while training pushes them to 0 or 1, so thresholding at 0.5 loses little.
        if self.training and self.config.code_noise > 0:
            h = h + self.config.code_noise * torch.randn_like(h)
        return torch.sigmoid(h)

    def decode_hidden(self, code: torch.Tensor) -> torch.Tensor:
        """The input of the output layer: (B, H1)."""
        h = code
        for i, layer in enumerate(self.decoder[:-1]):
            h = layer(h if i == 0 else self.act(h))
        return h if len(self.decoder) == 1 else self.act(h)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """Logits over the vocabulary: (B, V)."""
        return self.decoder[-1](self.decode_hidden(code))

    def forward(
        self, x: SparseBatch, target: SparseBatch, negatives: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes and the mean loss against ``target``, each row a word distribution summing to 1.

        With ``negatives`` (word ids drawn uniformly at random), the softmax is restricted to the
        batch's own words plus those samples, standing in for all the others (see
        :func:`sampled_softmax_cross_entropy`); without, it runs over the whole vocabulary.
        """
        code = self.encode(x)
        if negatives is None:
            loss = softmax_cross_entropy(self.decode(code), target)
        else:
            h = self.decode_hidden(code)
            loss = sampled_softmax_cross_entropy(
                h, self.decoder[-1], target, negatives, self.output_rows
            )
        if self.config.code_l2 > 0 and not self.config.binary:
            loss = loss + self.config.code_l2 * code.pow(2).sum(1).mean()
        return code, loss


class TouchedRows:
    """The gradient of a large table whose minibatches use a few of its rows, kept in one
    buffer that is written and cleared only where a minibatch touched it.

    Autograd would give each step a fresh dense (V, H) gradient: zero-filling two of them was
    the largest single cost of a training step (8.5 of 31 ms on 20 Newsgroups, profiled
    under bench/speed.py). Here each step takes its rows as a small leaf tensor (:meth:`gather`)
    and computes the loss from it; :meth:`publish` copies the leaf's gradient into the buffer
    and hands the buffer to the table as its ``.grad`` (zero everywhere else, exactly what
    autograd would have made); after the optimizer's step, :meth:`clear` zeroes those rows.
    """

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight
        self.buffer = torch.zeros_like(weight)
        self.rows: torch.Tensor | None = None
        self.leaf: torch.Tensor | None = None

    def gather(self, rows: torch.Tensor) -> torch.Tensor:
        """A copy of the table's ``rows`` (distinct ids) that collects their gradient."""
        self.rows = rows
        self.leaf = self.weight.detach()[rows].requires_grad_()
        return self.leaf

    def publish(self) -> None:
        """Make the table's ``.grad`` the buffer, holding the gathered rows' gradient."""
        if self.leaf is not None and self.leaf.grad is not None:
            self.buffer.index_copy_(0, self.rows, self.leaf.grad)
            self.weight.grad = self.buffer

    def clear(self) -> None:
        """Zero the rows the last step wrote (call after the optimizer's step)."""
        if self.rows is not None:
            self.buffer.index_fill_(0, self.rows, 0.0)
        self.rows = self.leaf = None


def softmax_cross_entropy(logits: torch.Tensor, target: SparseBatch) -> torch.Tensor:
    """Mean over rows of ``-sum_j p_j log softmax(logits)_j`` with a sparse ``p``.

    Only the target's non-zeros are gathered, so no dense (B, V) target is ever built.
    """
    return (torch.logsumexp(logits, dim=1) - expected_logit(logits, target)).mean()


def expected_logit(logits: torch.Tensor, target: SparseBatch) -> torch.Tensor:
    """Per row, ``sum_j p_j logits_j`` for a sparse ``p`` whose indices are columns of logits."""
    b, width = logits.shape
    lengths = torch.diff(target.offsets, append=target.offsets.new_tensor([target.values.numel()]))
    rows = torch.repeat_interleave(torch.arange(b, device=logits.device), lengths)
    picked = logits.reshape(-1)[rows * width + target.indices]  # (nnz,)
    return torch.zeros(b, device=logits.device).index_add_(0, rows, picked * target.values)


def sampled_softmax_cross_entropy(
    h: torch.Tensor,
    output: nn.Linear,
    target: SparseBatch,
    negatives: torch.Tensor,
    touched: TouchedRows | None = None,
) -> torch.Tensor:
    """:func:`softmax_cross_entropy` with logits computed only for a subset of the vocabulary.

    The subset is every word of the batch's targets plus ``negatives``, a uniform sample of the
    vocabulary. The partition function's part over the unseen words is estimated from the
    samples that are not targets, scaled by (words not in the batch) / (such samples). The
    output layer is the most expensive part of training (B x H x V); this cuts V to the batch's
    words plus the samples.
    """
    v = output.out_features
    positives = torch.unique(target.indices)
    in_batch = torch.zeros(v, dtype=torch.bool, device=h.device)
    in_batch[positives] = True
    negatives = torch.unique(negatives)
    negatives = negatives[~in_batch[negatives]]
    words = torch.cat([positives, negatives])
    # F.embedding rather than output.weight[words]: the same rows and, the words being
    # unique, the same gradient, but its backward is 3-4 times faster on CPU than indexing's
    # accumulating scatter (profiled under bench/speed.py).
    weight = touched.gather(words) if touched is not None else F.embedding(words, output.weight)
    logits = F.linear(h, weight, output.bias[words])  # (B, |words|)
    n_pos = len(positives)
    if len(negatives):
        # log of the weight each sampled word stands for
        scale = torch.log(torch.tensor((v - n_pos) / len(negatives), device=h.device))
        logits_for_z = torch.cat([logits[:, :n_pos], logits[:, n_pos:] + scale], dim=1)
    else:
        logits_for_z = logits
    column = torch.full((v,), -1, dtype=torch.long, device=h.device)
    column[positives] = torch.arange(n_pos, device=h.device)
    local = SparseBatch(column[target.indices], target.offsets, target.values, target.size)
    return (torch.logsumexp(logits_for_z, dim=1) - expected_logit(logits, local)).mean()


def drop_inputs(x: SparseBatch, p: float, generator: torch.Generator) -> SparseBatch:
    """Masking noise for denoising: zero each input word with chance ``p`` (inverted dropout)."""
    if p <= 0:
        return x
    keep = torch.rand(x.values.shape, generator=generator) >= p
    values = x.values * keep.to(x.values.device) / (1.0 - p)
    return SparseBatch(x.indices, x.offsets, values, x.size)


def sample_words(
    x: SparseBatch, rows: torch.Tensor, low: int, high: int, generator: torch.Generator
) -> SparseBatch:
    """Replace the marked ``rows`` by a short query-like sample of their own words.

    A typed query is an extreme corruption of a document: a handful of its words. Each marked
    row keeps between ``low`` and ``high`` of its words (fewer if it has fewer), drawn without
    replacement with chances proportional to their weights, so that salient words are the
    likelier ones, as in a query someone would type; the kept weights are L2-normalised again,
    as a query's would be. Other rows are left as they are. ``rows`` is a (B,) bool mask.
    """
    nnz = x.values.numel()
    lengths = torch.diff(x.offsets, append=x.offsets.new_tensor([nnz]))
    row_of = torch.repeat_interleave(torch.arange(x.size), lengths)
    k = torch.randint(low, high + 1, (x.size,), generator=generator)
    # Weighted sampling without replacement (Efraimidis & Spirakis): the smallest keys
    # -log(u) / w win.
    key = -torch.log(torch.rand(nnz, generator=generator).clamp_min(1e-12))
    key = key / x.values.cpu().clamp_min(1e-12)
    order = torch.argsort(key)
    order = order[torch.argsort(row_of[order], stable=True)]
    rank = torch.empty(nnz, dtype=torch.long)
    rank[order] = torch.arange(nnz) - x.offsets.cpu()[row_of[order]]
    keep = ~rows[row_of] | (rank < k[row_of])
    values = x.values.cpu()[keep]
    kept_row = row_of[keep]
    norms = torch.zeros(x.size).index_add_(0, kept_row, values * values).sqrt()
    scale = torch.where(rows, 1.0 / norms.clamp_min(1e-12), torch.ones(x.size))
    counts = torch.bincount(kept_row, minlength=x.size)
    offsets = torch.cumsum(counts, 0) - counts
    return SparseBatch(x.indices.cpu()[keep], offsets, values * scale[kept_row], x.size)


def corrupt(
    x: SparseBatch,
    noise: float,
    query_fraction: float,
    query_words: tuple[int, int],
    generator: torch.Generator,
) -> SparseBatch:
    """Training input noise: query-like samples for a share of the rows, dropout for the rest.

    Each row becomes, with chance ``query_fraction``, a handful of its own words
    (:func:`sample_words`); every other row loses each word with chance ``noise``
    (:func:`drop_inputs`). The target stays the whole document either way.
    """
    dropped = drop_inputs(x, noise, generator)
    if query_fraction <= 0:
        return dropped
    queries = torch.rand(x.size, generator=generator) < query_fraction
    nnz = x.values.numel()
    lengths = torch.diff(x.offsets, append=x.offsets.new_tensor([nnz])).cpu()
    row_is_query = torch.repeat_interleave(queries, lengths).to(x.values.device)
    values = torch.where(row_is_query, x.values, dropped.values)
    mixed = SparseBatch(x.indices, x.offsets, values, x.size)
    return sample_words(mixed, queries, *query_words, generator)
