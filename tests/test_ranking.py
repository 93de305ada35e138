import numpy as np

from docret.ranking import InvertedIndex, normalize_rows, top_k


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
