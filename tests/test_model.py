import numpy as np
import pytest
import scipy.sparse as sp
import torch

from docret.encoder import Encoder, NotFittedError
from docret.errors import TrainingError
from docret.inference import NumpyEncoder
from docret.model import (
    Autoencoder,
    AutoencoderConfig,
    SparseBatch,
    drop_inputs,
    softmax_cross_entropy,
)
from docret.text import SparseVector

from .conftest import FAST, TOPICS, make_text


def _texts(n_per_topic=12, seed=0):
    import random

    rng = random.Random(seed)
    return [make_text(rng, t) for t in TOPICS for _ in range(n_per_topic)]


def test_softmax_cross_entropy_equals_dense_computation():
    torch.manual_seed(0)
    logits = torch.randn(3, 7)
    target = sp.csr_matrix(
        np.array(
            [[0.5, 0, 0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1.0], [0.2, 0.2, 0.2, 0.2, 0.2, 0, 0]]
        )
    )
    ours = softmax_cross_entropy(logits, SparseBatch.from_csr(target))
    dense = torch.tensor(target.toarray(), dtype=torch.float32)
    ref = -(dense * torch.log_softmax(logits, 1)).sum(1).mean()
    assert torch.allclose(ours, ref, atol=1e-6)


def test_drop_inputs_is_seeded_inverted_dropout():
    x = SparseBatch.from_csr(sp.csr_matrix(np.ones((50, 40), np.float32)))
    a = drop_inputs(x, 0.5, torch.Generator().manual_seed(1)).values
    b = drop_inputs(x, 0.5, torch.Generator().manual_seed(1)).values
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) == {0.0, 2.0}
    assert 0.4 < (a == 0).float().mean().item() < 0.6
    assert drop_inputs(x, 0.0, torch.Generator()) is x


def test_config_round_trip_and_validation():
    c = AutoencoderConfig(vocab_size=10, hidden=[8, 4], code_size=2)
    assert AutoencoderConfig.from_dict(c.to_dict()) == c
    assert c.sizes == [10, 8, 4, 2]
    with pytest.raises(ValueError):
        AutoencoderConfig(vocab_size=10, activation="swish")
    with pytest.raises(ValueError):
        AutoencoderConfig(vocab_size=10, noise=1.0)


def test_decoder_mirrors_encoder():
    model = Autoencoder(AutoencoderConfig(vocab_size=30, hidden=(16, 8), code_size=4))
    x = SparseBatch.from_csr(sp.random(5, 30, density=0.3, format="csr", random_state=0))
    code = model.encode(x)
    assert code.shape == (5, 4)
    assert model.decode(code).shape == (5, 30)


@pytest.fixture(scope="module")
def fitted():
    return Encoder(**FAST).fit(_texts())


def test_fit_returns_self_and_sets_learned_attributes(fitted):
    for attr in ("vocabulary_", "idf_", "df_", "analyzer_", "model_", "history_", "config_"):
        assert hasattr(fitted, attr)
    assert len(fitted.vocabulary_) == len(fitted.idf_)
    # Training made progress: the held-out loss fell.
    assert fitted.history_[-1].val_loss < fitted.history_[0].val_loss


def test_estimator_contract():
    enc = Encoder(code_size=3)
    assert enc.code_size == 3 and not hasattr(enc, "model_")
    with pytest.raises(NotFittedError):
        enc.transform(["text"])
    with pytest.raises(TypeError):
        Encoder(32)  # keyword-only
    with pytest.raises(ValueError, match="single string"):
        enc.fit("one long string")


def test_too_few_documents_and_no_vocabulary():
    with pytest.raises(TrainingError, match="at least 10 documents"):
        Encoder(**FAST).fit(["a b c"] * 3)
    with pytest.raises(TrainingError, match="No vocabulary"):
        Encoder(**FAST).fit(["the and of"] * 12)


def test_numpy_encoder_equals_torch_encoder(fitted):
    texts = _texts(5, seed=7)
    torch_codes = fitted.transform(texts)
    state = fitted.export()
    np_enc = NumpyEncoder(state["config"], state["weights"])
    tfidf = fitted.tfidf(fitted.vectorize(texts))
    vectors = [
        SparseVector(tfidf.indices[a:b], tfidf.data[a:b])
        for a, b in zip(tfidf.indptr[:-1], tfidf.indptr[1:], strict=True)
    ]
    np.testing.assert_allclose(np_enc.encode(vectors), torch_codes, atol=1e-5)


@pytest.mark.parametrize(
    "activation, binary", [("tanh", False), ("sigmoid", False), ("relu", False), ("tanh", True)]
)
def test_numpy_encoder_equals_torch_for_each_activation(activation, binary):
    config = AutoencoderConfig(
        vocab_size=20, hidden=(8,), code_size=3, activation=activation, binary=binary
    )
    torch.manual_seed(0)
    model = Autoencoder(config).eval()
    x = sp.random(4, 20, density=0.4, format="csr", random_state=1, dtype=np.float32)
    with torch.no_grad():
        ref = model.encode(SparseBatch.from_csr(x)).numpy()
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    vectors = [SparseVector(x[i].indices, x[i].data) for i in range(4)]
    np.testing.assert_allclose(
        NumpyEncoder(config.to_dict(), weights).encode(vectors), ref, atol=1e-5
    )


@pytest.mark.parametrize("hidden", [(8, 6), ()])
def test_numpy_decoder_gives_the_torch_decoders_log_probabilities(hidden):
    from docret.inference import NumpyDecoder

    config = AutoencoderConfig(vocab_size=30, hidden=hidden, code_size=3)
    torch.manual_seed(0)
    model = Autoencoder(config).eval()
    codes = torch.randn(7, 3)
    with torch.no_grad():
        log_p = torch.log_softmax(model.decode(codes), dim=1).numpy()
    decoder = NumpyDecoder(config.to_dict(), {k: v.numpy() for k, v in model.state_dict().items()})
    weight, bias = decoder.output
    # Chunked or not, logit - log normaliser is the log-softmax: each row's log-probabilities.
    for chunk in (2, 2048):
        hidden_, norms = decoder.likelihood_parts(codes.numpy(), chunk=chunk)
        np.testing.assert_allclose(hidden_ @ weight + bias - norms[:, None], log_p, atol=1e-5)


def test_same_seed_same_codes_other_seed_other_codes():
    texts = _texts(8)
    options = {**FAST, "epochs": 5}
    a = Encoder(**options).fit_transform(texts)
    b = Encoder(**options).fit_transform(texts)
    c = Encoder(**{**options, "seed": 1}).fit_transform(texts)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_sampled_softmax_with_every_word_sampled_is_exact():
    from docret.model import sampled_softmax_cross_entropy

    torch.manual_seed(0)
    out = torch.nn.Linear(6, 30)
    h = torch.randn(4, 6)
    target = sp.random(4, 30, density=0.2, format="csr", random_state=2, dtype=np.float32)
    target = sp.csr_matrix(target.multiply(1 / np.asarray(target.sum(1))))
    t = SparseBatch.from_csr(target)
    full = softmax_cross_entropy(out(h), t)
    every = sampled_softmax_cross_entropy(h, out, t, torch.arange(30))
    assert torch.allclose(full, every, atol=1e-5)
    # With few samples it is an estimate, near the full loss and different from it.
    some = sampled_softmax_cross_entropy(h, out, t, torch.randint(30, (8,)))
    assert not torch.allclose(full, some) and abs(full - some) < 1.0


def test_pretraining_runs_and_changes_the_initial_weights(monkeypatch):
    from docret import train

    texts = _texts(8)
    calls = []
    real = train.pretrain

    def spy(model, *args, **kwargs):
        before = {k: v.clone() for k, v in model.state_dict().items()}
        history = real(model, *args, **kwargs)
        calls.append((before, {k: v.clone() for k, v in model.state_dict().items()}, history))
        return history

    monkeypatch.setattr(train, "pretrain", spy)
    enc = Encoder(**{**FAST, "epochs": 1, "pretrain": True})
    enc.fit_model(enc.fit_vocabulary(texts))
    ((before, after, history),) = calls
    assert [h["layer"] for h in history] == [1, 2, 3]  # FAST: V-64-32-8, three stages
    assert enc.pretrain_history_ == history
    for name in ("input_weight", "encoder.0.weight", "encoder.1.weight", "decoder.0.weight"):
        assert not torch.equal(before[name], after[name]), name
    monkeypatch.undo()
    # the same seed pre-trains to the same weights
    a = Encoder(**{**FAST, "epochs": 1, "pretrain": True}).fit_transform(texts)
    b = Encoder(**{**FAST, "epochs": 1, "pretrain": True}).fit_transform(texts)
    assert np.array_equal(a, b)


def test_pretraining_leaves_a_layer_wider_than_the_one_below_alone():
    from docret import train
    from docret.text import tfidf_matrix

    enc = Encoder(**{**FAST, "hidden": (16,), "code_size": 24})  # V-16-24: the code widens
    counts = enc.fit_vocabulary(_texts(8))
    config = AutoencoderConfig(vocab_size=counts.shape[1], hidden=(16,), code_size=24)
    torch.manual_seed(0)
    model = Autoencoder(config)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    targets = sp.csr_matrix(counts.multiply(1 / np.asarray(counts.sum(1)).clip(1e-9)))
    history = train.pretrain(
        model, tfidf_matrix(counts, enc.idf_), targets, train.TrainConfig(device="cpu"), epochs=1
    )
    assert [h["layer"] for h in history] == [1]
    assert not torch.equal(before["input_weight"], model.input_weight)
    for name in ("encoder.0.weight", "decoder.0.weight"):  # the code layer and its mirror
        assert torch.equal(before[name], model.state_dict()[name]), name


@pytest.mark.parametrize("binary", [False, True])
def test_code_l2_penalises_float_codes_only(binary):
    x = SparseBatch.from_csr(sp.random(6, 30, density=0.3, format="csr", random_state=1))
    target = sp.random(6, 30, density=0.3, format="csr", random_state=2)
    target = sp.csr_matrix(target.multiply(1 / np.asarray(target.sum(1)).clip(1e-9)))
    losses = []
    for l2 in (0.0, 0.5):
        torch.manual_seed(0)
        config = AutoencoderConfig(
            vocab_size=30, hidden=(16, 8), code_size=4, code_l2=l2, binary=binary
        )
        model = Autoencoder(config).eval()  # eval: no code noise in the binary model
        code, loss = model(x, SparseBatch.from_csr(target))
        losses.append(loss.item())
    if binary:
        assert losses[1] == pytest.approx(losses[0])
    else:
        expected = 0.5 * code.pow(2).sum(1).mean().item()
        assert losses[1] - losses[0] == pytest.approx(expected, rel=1e-4)


def _row(batch, r):
    end = batch.offsets[r + 1] if r + 1 < batch.size else batch.values.numel()
    return batch.indices[batch.offsets[r] : end], batch.values[batch.offsets[r] : end]


def test_sample_words_keeps_a_few_of_the_marked_rows_own_words():
    from docret.model import sample_words

    x = sp.random(40, 60, density=0.4, format="csr", random_state=3, dtype=np.float32)
    batch = SparseBatch.from_csr(x)
    marked = torch.arange(40) % 2 == 0
    out = sample_words(batch, marked, 2, 5, torch.Generator().manual_seed(0))
    again = sample_words(batch, marked, 2, 5, torch.Generator().manual_seed(0))
    assert torch.equal(out.indices, again.indices) and torch.equal(out.values, again.values)
    for r in range(40):
        idx, val = _row(out, r)
        own_idx, own_val = _row(batch, r)
        if marked[r]:
            assert min(2, len(own_idx)) <= len(idx) <= 5
            assert set(idx.tolist()) <= set(own_idx.tolist())
            assert torch.linalg.norm(val).item() == pytest.approx(1.0, abs=1e-5)
        else:
            assert torch.equal(idx, own_idx) and torch.equal(val, own_val)


def test_sample_words_prefers_heavy_words():
    from docret.model import sample_words

    # Every row: one word of weight 1 and nine of weight 0.01; one word is kept from each.
    data = np.tile(np.r_[1.0, np.full(9, 0.01)], 500).astype(np.float32)
    x = sp.csr_matrix((data, np.tile(np.arange(10), 500), np.arange(0, 5001, 10)), (500, 10))
    out = sample_words(
        SparseBatch.from_csr(x),
        torch.ones(500, dtype=torch.bool),
        1,
        1,
        torch.Generator().manual_seed(0),
    )
    assert out.values.numel() == 500
    assert (out.indices == 0).float().mean() > 0.8  # chance 1 / 1.09 each


def test_corrupt_mixes_query_like_rows_and_dropout():
    from docret.model import corrupt

    x = SparseBatch.from_csr(sp.csr_matrix(np.ones((200, 30), np.float32)))
    out = corrupt(x, 0.5, 0.3, (2, 4), torch.Generator().manual_seed(1))
    lengths = torch.diff(out.offsets, append=out.offsets.new_tensor([out.values.numel()]))
    short = lengths <= 4
    assert 0.2 < short.float().mean() < 0.4  # about query_fraction of the rows
    assert torch.equal(
        corrupt(x, 0.5, 0.0, (2, 4), torch.Generator().manual_seed(1)).values,
        drop_inputs(x, 0.5, torch.Generator().manual_seed(1)).values,
    )


def test_truncated_svd_finds_the_leading_singular_directions():
    from docret.train import truncated_svd

    rng = np.random.default_rng(0)
    # A matrix with a clear spectrum: 5 strong directions plus weak noise.
    dense = rng.normal(size=(300, 5)) * [20, 15, 10, 8, 6] @ rng.normal(size=(5, 200)) / 10
    dense += rng.normal(scale=0.01, size=dense.shape)
    x = sp.csr_matrix(dense.astype(np.float32))
    s, vt = truncated_svd(x, 5, seed=0)
    _, s_ref, vt_ref = np.linalg.svd(dense, full_matrices=False)
    np.testing.assert_allclose(s, s_ref[:5], rtol=1e-3)
    np.testing.assert_allclose(np.abs((vt * vt_ref[:5]).sum(1)), 1.0, atol=1e-3)
    s_small, _ = truncated_svd(x[:12], 5, seed=0)  # small matrix: exact path
    np.testing.assert_allclose(s_small, np.linalg.svd(dense[:12], compute_uv=False)[:5], rtol=1e-4)


def test_first_layer_starts_on_the_singular_directions_with_unit_scale():
    from docret.train import init_first_layer

    # Small enough for the exact decomposition: the first layer must match it closely.
    x = sp.random(80, 30, density=0.3, format="csr", random_state=4, dtype=np.float32)
    model = Autoencoder(AutoencoderConfig(vocab_size=30, hidden=(24, 8), code_size=4))
    explained = init_first_layer(model, x, seed=0)
    assert 0 < explained < 1
    with torch.no_grad():
        h = model.first_layer(SparseBatch.from_csr(x)).numpy()
    np.testing.assert_allclose(np.sqrt((h**2).mean(0)), 1.0, rtol=1e-3)
    _, _, vt = np.linalg.svd(x.toarray(), full_matrices=False)
    w = model.input_weight.detach().numpy()
    cos = np.abs((w / np.linalg.norm(w, axis=0)).T * vt[:24]).sum(1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-3)


def test_the_lsa_start_makes_float_codes_start_as_lsa_through_identity_layers():
    from docret import train

    x = sp.random(80, 30, density=0.3, format="csr", random_state=4, dtype=np.float32)
    targets = sp.csr_matrix(x.multiply(1 / np.asarray(x.sum(1)).clip(1e-9)))
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(vocab_size=30, hidden=(24, 12), code_size=4))
    config = train.TrainConfig(device="cpu", first_layer="lsa")
    history = train.pretrain(model, x, targets, config, epochs=1)
    assert [h["layer"] for h in history] == [1, 2, 3] and history[1]["identity"]
    with torch.no_grad():
        h = model.first_layer(SparseBatch.from_csr(x))
        code = model.encode(SparseBatch.from_csr(x))
    # unscaled singular directions: the first unit has unit scale, the others LSA's proportions
    s = np.linalg.svd(x.toarray(), compute_uv=False)[:24]
    rms = np.sqrt((h.numpy() ** 2).mean(0))
    np.testing.assert_allclose(rms, s / s[0], rtol=1e-3)
    # every layer above passes its leading units on: the code is the first four, activated
    expected = torch.tanh(torch.tanh(h[:, :4]))
    torch.testing.assert_close(code, expected)
    for name, weight in model.state_dict().items():
        if name.startswith(("encoder.", "decoder.0", "decoder.1")) and name.endswith("weight"):
            n = min(weight.shape)
            assert torch.equal(weight[:n, :n], torch.eye(n)) and not weight[n:, n:].any(), name


def test_importing_train_makes_waiting_threads_sleep_unless_told_otherwise():
    import os
    import subprocess
    import sys

    code = "import os, docret.train; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = [sys.executable, "-c", code]
    assert subprocess.run(run, env=env, capture_output=True, text=True).stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    assert subprocess.run(run, env=env, capture_output=True, text=True).stdout.strip() == "ACTIVE"


def test_first_layer_of_a_large_corpus_comes_from_a_sample(monkeypatch):
    from docret import train

    x = sp.random(300, 30, density=0.3, format="csr", random_state=5, dtype=np.float32)
    seen = []
    real = train.truncated_svd
    monkeypatch.setattr(train, "truncated_svd", lambda m, *a: seen.append(m.shape) or real(m, *a))
    monkeypatch.setattr(train, "SVD_MAX_ROWS", 100)
    model = Autoencoder(AutoencoderConfig(vocab_size=30, hidden=(16, 8), code_size=4))
    train.init_first_layer(model, x, seed=0)
    assert seen == [(100, 30)]
    with torch.no_grad():
        h = model.first_layer(SparseBatch.from_csr(x)).numpy()
    assert 0.7 < np.sqrt((h**2).mean()) < 1.3  # about the unit scale on all the rows


def test_first_layer_starts_by_svd_by_softmax_or_by_svd_then_softmax():
    from docret import train
    from docret.text import tfidf_matrix

    enc = Encoder(**FAST)
    counts = enc.fit_vocabulary(_texts(8))
    targets = sp.csr_matrix(counts.multiply(1 / np.asarray(counts.sum(1)).clip(1e-9)))
    inputs = tfidf_matrix(counts, enc.idf_)
    weights = []
    for start in ("svd", "softmax", "svd-softmax"):
        torch.manual_seed(0)
        model = Autoencoder(AutoencoderConfig(vocab_size=counts.shape[1], hidden=(16, 8)))
        before = model.input_weight.detach().clone()
        config = train.TrainConfig(device="cpu", first_layer=start)
        (first, *_) = train.pretrain(model, inputs, targets, config, epochs=1)
        assert ("explained" in first) == (start != "softmax")
        assert ("loss" in first) == (start != "svd")
        assert not torch.equal(before, model.input_weight)
        weights.append(model.input_weight.detach().clone())
    svd, softmax, both = weights
    assert not torch.allclose(svd, softmax)
    assert not torch.allclose(svd, both) and not torch.allclose(softmax, both)
    # svd-softmax is the SVD start followed by the softmax epochs, nothing else
    torch.manual_seed(0)
    model = Autoencoder(AutoencoderConfig(vocab_size=counts.shape[1], hidden=(16, 8)))
    config = train.TrainConfig(device="cpu", first_layer="svd-softmax")
    train.init_first_layer(model, inputs, config.seed)
    train._pretrain_first_layer(model, inputs, targets, config, 1)
    assert torch.equal(model.input_weight.detach(), both)
    # binary codes keep the start of "svd" (the softmax epochs were measured for float codes)
    starts = []
    for start in ("svd", "svd-softmax"):
        torch.manual_seed(0)
        config = AutoencoderConfig(vocab_size=counts.shape[1], hidden=(16, 8), binary=True)
        model = Autoencoder(config)
        train.pretrain(model, inputs, targets, train.TrainConfig(device="cpu", first_layer=start))
        starts.append(model.input_weight.detach().clone())
    assert torch.equal(*starts)
    with pytest.raises(ValueError, match="first_layer"):
        train.TrainConfig(first_layer="pca")


@pytest.mark.parametrize("dims", [-1, 2.5, True])
def test_lsa_dims_is_checked_before_any_work(dims):
    with pytest.raises(TrainingError, match="lsa_dims must be a whole number"):
        Encoder(**{**FAST, "lsa_dims": dims}).fit(["rocket launch orbit"] * 12)


def test_held_out_documents_are_the_tenth_training_holds_out():
    from docret import train

    texts = [f"rocket launch orbit number {'x' * (i % 7 + 2)}" for i in range(40)] + ["the"]
    encoder = Encoder(**{**FAST, "epochs": 1}).fit(texts)
    held = encoder.held_out_
    assert len(held) == 4 and 40 not in held  # the empty document is never trained on
    val, rest = train.split_rows(40, encoder.train_config_)
    assert held.tolist() == val.tolist() and sorted([*val, *rest]) == list(range(40))
    assert Encoder(**{**FAST, "epochs": 1}).fit(texts).held_out_.tolist() == held.tolist()
