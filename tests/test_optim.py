"""docret.optim: the same steps as torch.optim's Adam and plateau schedule, without its start-up
cost; and the training thread setting."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from docret.optim import Adam, Plateau


def _params(seed: int) -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [
        torch.nn.Parameter(torch.randn(50, 7, generator=g)),
        torch.nn.Parameter(torch.randn(7, generator=g)),
        torch.nn.Parameter(torch.randn(3, 3, generator=g)),  # gets no gradient on odd steps
    ]


def _run(make, steps: int = 12) -> list[torch.Tensor]:
    params = _params(0)
    opt = make(params)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        opt.zero_grad()
        loss = (params[0] @ params[1]).square().sum() * torch.rand(1, generator=g)
        if step % 2 == 0:
            loss = loss + params[2].pow(3).sum()
        loss.backward()
        opt.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_takes_torchs_fused_adam_steps_bit_for_bit(weight_decay):
    ours = _run(lambda p: Adam(p, lr=0.01, weight_decay=weight_decay))
    theirs = _run(lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=weight_decay, fused=True))
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(ours[0], _params(0)[0])  # it did move


def test_adam_falls_back_to_torch_optim_without_the_fused_kernel(monkeypatch):
    reference = _run(lambda p: Adam(p, lr=0.01))
    import docret.optim

    monkeypatch.setattr(docret.optim, "_fused_kernel", lambda: None)
    assert isinstance(Adam(_params(0), lr=0.01)._fallback, torch.optim.Adam)
    fallback = _run(lambda p: Adam(p, lr=0.01))
    for a, b in zip(reference, fallback, strict=True):
        assert torch.equal(a, b)


def test_a_changed_learning_rate_is_used_by_the_next_step():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    first = p.detach().clone()
    opt.lr = 0.0
    p.grad = torch.ones(3)
    opt.step()
    assert torch.allclose(first, torch.full((3,), -0.1)) and torch.equal(p.detach(), first)


def test_plateau_halves_as_reduce_lr_on_plateau_does():
    scores = [5, 4, 4.5, 4.2, 3.9, 3.9, 3.9, 3.8999, 3.9, 3.0, 3.1, 3.2, 3.3, 3.4]
    p = torch.nn.Parameter(torch.zeros(1))
    ours = Adam([p], lr=0.1)
    theirs = torch.optim.Adam([p], lr=0.1)
    plateau = Plateau(ours, factor=0.5, patience=1)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, factor=0.5, patience=1)
    seen = []
    for score in scores:
        plateau.step(score)
        reference.step(score)
        assert ours.lr == pytest.approx(theirs.param_groups[0]["lr"], abs=0)
        seen.append(ours.lr)
    assert min(seen) < 0.1 / 4  # it halved more than once on these scores


def test_training_does_not_import_the_compiler_stack():
    code = (
        "import sys, numpy as np, scipy.sparse as sp\n"
        "from docret.encoder import Encoder\n"
        "texts = [f'alpha beta gamma {i} delta' if i % 2 else f'omega sigma tau {i}' "
        "for i in range(40)]\n"
        "Encoder(hidden=(8,), code_size=2, epochs=2, vocab_size=50, min_df=1, max_df=1.0,"
        " device='cpu').fit(texts)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cpu_threads_sets_both_pools_and_restores_them():
    from threadpoolctl import threadpool_info

    from docret.train import cpu_threads

    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert torch.get_num_threads() == before
    with cpu_threads(0):  # 0 leaves torch's default alone
        assert torch.get_num_threads() == before


def test_threads_setting_is_checked_before_training_and_same_threads_same_codes():
    import random

    from docret.encoder import Encoder
    from docret.errors import TrainingError

    from .conftest import FAST, TOPICS, make_text

    rng = random.Random(0)
    texts = [make_text(rng, t) for t in TOPICS for _ in range(6)]
    with pytest.raises(TrainingError, match="threads"):
        Encoder(**{**FAST, "threads": -1}).fit(texts)
    options = {**FAST, "epochs": 3, "threads": 1}
    a = Encoder(**options).fit_transform(texts)
    b = Encoder(**options).fit_transform(texts)
    assert np.array_equal(a, b)
    assert Encoder(**options).get_settings()["threads"] == 1


def _step(model, batch, target, negatives, touched: bool):
    from docret.model import TouchedRows
    from docret.optim import Adam

    tables = (TouchedRows(model.input_weight), TouchedRows(model.decoder[-1].weight))
    if touched:
        model.input_rows, model.output_rows = tables
    opt = Adam(model.parameters(), lr=0.01)
    opt.zero_grad()
    _, loss = model(batch, target, negatives)
    loss.backward()
    if touched:
        for t in tables:
            t.publish()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    opt.step()
    if touched:
        for t in tables:
            t.clear()
        assert all(not t.buffer.any() for t in tables)  # cleared for the next step
    model.input_rows = model.output_rows = None
    return grads, {n: p.detach().clone() for n, p in model.named_parameters()}


def test_touched_rows_give_autograds_gradients_and_steps_bit_for_bit():
    import scipy.sparse as sp

    from docret.model import Autoencoder, AutoencoderConfig, SparseBatch

    rng = np.random.default_rng(0)
    x = sp.random(16, 300, density=0.05, format="csr", random_state=1, dtype=np.float32)
    x.data = rng.random(x.nnz).astype(np.float32)
    batch, target = SparseBatch.from_csr(x), SparseBatch.from_csr(x.multiply(1 / x.sum(1)).tocsr())
    negatives = torch.randint(300, (40,), generator=torch.Generator().manual_seed(2))
    results = []
    for touched in (False, True):
        torch.manual_seed(0)
        model = Autoencoder(AutoencoderConfig(vocab_size=300, hidden=(20, 10), code_size=4))
        results.append(_step(model, batch, target, negatives, touched))
    (dense_grads, dense_after), (row_grads, row_after) = results
    for name in dense_grads:
        assert torch.equal(dense_grads[name], row_grads[name]), name
        assert torch.equal(dense_after[name], row_after[name]), name
    used = torch.unique(batch.indices)
    assert dense_grads["input_weight"][used].abs().sum() > 0  # the test exercised the rows
