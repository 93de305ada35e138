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
