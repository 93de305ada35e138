import numpy as np
import pytest

from docret.metrics import average_precision_at_k, ndcg_at_k, precision_at_k, top_k_rows


def test_precision_at_k_by_hand():
    rel = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
    assert precision_at_k(rel, 2).tolist() == [0.5, 0.0, 1.0]
    assert precision_at_k(rel, 4).tolist() == [0.5, 0.0, 1.0]
    with pytest.raises(ValueError):
        precision_at_k(rel, 5)


def test_average_precision_by_hand():
    rel = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]])
    # query 0: relevant at ranks 1 and 3 -> (1/1 + 2/3) / 2
    ap = average_precision_at_k(rel, 4)
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 2, 0.0, 0.5])
    # TREC style: 5 relevant documents exist for query 0, 1 for query 2
    ap = average_precision_at_k(rel, 4, n_relevant=np.array([5, 0, 1]))
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 4, 0.0, 0.5])
    # depth cut: only rank 1 counts at k=1
    np.testing.assert_allclose(average_precision_at_k(rel, 1), [1.0, 0.0, 0.0])


def test_ndcg_by_hand_with_no_relevant_query():
    gains = np.array([[3, 0, 2], [0, 0, 0], [0, 0, 0]])
    ideal = [np.array([3, 2, 1]), np.array([2]), np.array([])]
    dcg = 7 + 3 / np.log2(4)
    idcg = 7 + 3 / np.log2(3) + 1 / np.log2(4)
    np.testing.assert_allclose(ndcg_at_k(gains, ideal, 3), [dcg / idcg, 0.0, 0.0])
    np.testing.assert_allclose(ndcg_at_k(np.array([[3, 2, 1]]), [np.array([3, 2, 1])], 3), [1.0])


def test_top_k_rows_matches_argsort_and_breaks_ties_by_index():
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(7, 5)), rng.normal(size=(40, 5))
    expected = np.argsort(-(q @ d.T), axis=1, kind="stable")[:, :6]
    np.testing.assert_array_equal(top_k_rows(q, d, 6, chunk=3), expected)
    tied = top_k_rows(np.ones((1, 1)), np.ones((5, 1)), 5)
    assert sorted(tied[0].tolist()) == [0, 1, 2, 3, 4]
