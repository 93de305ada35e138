import numpy as np

from docret.ranking import (
    InvertedIndex,
    hamming_distances,
    normalize_rows,
    pack_bits,
    popcount,
    smallest_k,
    top_k,
)


def test_top_k_matches_full_sort_on_random_data():
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = rng.normal(size=200).astype(np.float32)
        k = int(rng.integers(1, 50))
        assert top_k(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_top_k_ties_go_to_lower_index_and_exclude():
    scores = np.array([0.5, 0.9, 0.9, 0.1, 0.9])
    assert top_k(scores, 2).tolist() == [1, 2]
    assert top_k(scores, 3, exclude=2).tolist() == [1, 4, 0]
    assert top_k(scores, 99).tolist() == [1, 2, 4, 0, 3]
    assert top_k(scores, 99, exclude=0).tolist() == [1, 2, 4, 3]
    assert top_k(np.array([1.0]), 5, exclude=0).tolist() == []


def test_normalize_rows_keeps_zero_rows():
    x = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(x, [[0.6, 0.8], [0.0, 0.0]])


def test_inverted_index_equals_dense_dot_products():
    rng = np.random.default_rng(1)
    dense = rng.random((30, 12)) * (rng.random((30, 12)) < 0.3)
    indptr = np.concatenate([[0], np.cumsum((dense > 0).sum(1))])
    indices = np.concatenate([np.flatnonzero(r) for r in dense]).astype(np.int32)
    weights = dense[dense > 0].astype(np.float32)
    inv = InvertedIndex(indptr, indices, weights, n_terms=12)
    q_idx = np.array([0, 3, 11], dtype=np.int32)
    q_val = np.array([0.5, 1.0, 0.25], dtype=np.float32)
    q = np.zeros(12)
    q[q_idx] = q_val
    np.testing.assert_allclose(inv.scores(q_idx, q_val), dense @ q, rtol=1e-5)


def _bits_reference(code) -> str:
    return "".join("1" if v > 0.5 else "0" for v in code)


def test_pack_bits_and_hamming_against_plain_python():
    rng = np.random.default_rng(2)
    for d in (1, 10, 64, 65, 130):
        codes = rng.random((20, d)).astype(np.float32)
        packed = pack_bits(codes)
        assert packed.dtype == np.uint64 and packed.shape == (20, -(-d // 64))
        # word layout: bit i of the code is bit 63 - (i % 64) of word i // 64
        for row, code in zip(packed, codes, strict=True):
            text = "".join(format(int(w), "064b") for w in row)[:d]
            assert text == _bits_reference(code)
        q = rng.random(d)
        expected = [
            sum(a != b for a, b in zip(_bits_reference(c), _bits_reference(q), strict=True))
            for c in codes
        ]
        assert hamming_distances(packed, pack_bits(q[None])[0]).tolist() == expected


def test_popcount_fallback_equals_numpy(monkeypatch):
    x = np.array([0, 1, 2**63, 2**64 - 1, 0x0F0F], dtype=np.uint64)
    expected = [bin(int(v)).count("1") for v in x]
    assert popcount(x).tolist() == expected
    import docret.ranking as ranking

    if hasattr(np, "bitwise_count"):
        monkeypatch.delattr(np, "bitwise_count")
    assert ranking.popcount(x).tolist() == expected


def test_hamming_top_k_equals_brute_force():
    rng = np.random.default_rng(3)
    codes = rng.random((500, 64))
    q = rng.random(64)
    dist = hamming_distances(pack_bits(codes), pack_bits(q[None])[0])
    brute = np.array([np.sum((c > 0.5) != (q > 0.5)) for c in codes])
    np.testing.assert_array_equal(dist, brute)
    assert top_k(-dist, 10).tolist() == np.argsort(brute, kind="stable")[:10].tolist()


def test_smallest_k_equals_stable_argsort():
    rng = np.random.default_rng(4)
    for _ in range(30):
        d = rng.integers(0, 65, size=int(rng.integers(1, 300)))
        k = int(rng.integers(1, 40))
        assert smallest_k(d, k).tolist() == np.argsort(d, kind="stable")[:k].tolist()
        ex = int(rng.integers(0, len(d)))
        expected = [i for i in np.argsort(d, kind="stable") if i != ex][:k]
        assert smallest_k(d, k, exclude=ex).tolist() == expected
    assert smallest_k(np.array([3]), 5, exclude=0).tolist() == []


def test_logits_invert_the_logistic_and_stay_finite_when_saturated():
    from docret.ranking import logits

    x = np.linspace(-8, 8, 33, dtype=np.float32)
    assert np.allclose(logits(1 / (1 + np.exp(-x))), x, atol=1e-3)
    saturated = logits(np.array([0.0, 1.0], dtype=np.float32))
    assert np.all(np.isfinite(saturated)) and saturated[0] < -13 and saturated[1] > 13
