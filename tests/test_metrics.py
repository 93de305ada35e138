import numpy as np
import pytest

from docret.metrics import (
    average_precision,
    judged,
    ndcg_at_k,
    precision_at_k,
    top_k_rows,
    top_rows,
)


def test_precision_at_k_divides_by_k_even_when_fewer_are_ranked():
    rel = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
    assert precision_at_k(rel, 2).tolist() == [0.5, 0.0, 1.0]
    assert precision_at_k(rel, 4).tolist() == [0.5, 0.0, 1.0]
    # 4 documents ranked, P@100 counts the 96 missing ranks as misses (trec_eval's P_100)
    np.testing.assert_allclose(precision_at_k(rel, 100), [0.02, 0.0, 0.04])


def test_average_precision_divides_by_all_relevant_documents():
    rel = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0]])
    # query 0: relevant at ranks 1 and 3, five relevant in all -> (1/1 + 2/3) / 5
    ap = average_precision(rel, np.array([5, 0, 1]))
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 5, 0.0, 0.5])
    # map_cut_1: only rank 1 counts, the denominator stays all relevant documents
    np.testing.assert_allclose(average_precision(rel, np.array([5, 0, 1]), 1), [0.2, 0.0, 0.0])


def test_ndcg_linear_and_exponential_gains_by_hand():
    gains = np.array([[3, 0, 2], [0, 0, 0], [0, 0, 0]])
    ideal = [np.array([3, 2, 1]), np.array([2]), np.array([])]
    dcg, idcg = 3 + 2 / np.log2(4), 3 + 2 / np.log2(3) + 1 / np.log2(4)
    np.testing.assert_allclose(ndcg_at_k(gains, ideal, 3), [dcg / idcg, 0.0, 0.0])
    dcg, idcg = 7 + 3 / np.log2(4), 7 + 3 / np.log2(3) + 1 / np.log2(4)
    np.testing.assert_allclose(ndcg_at_k(gains, ideal, 3, exponential=True), [dcg / idcg, 0.0, 0.0])


def test_judged_leaves_out_queries_without_relevant_documents():
    assert judged(np.array([3, 0, 1, 0])).tolist() == [0, 2]


def test_top_rows_breaks_ties_by_lower_index_across_the_cut():
    scores = np.array([[0.5, 0.9, 0.9, 0.1, 0.9], [1.0, 1.0, 1.0, 1.0, 1.0]])
    assert top_rows(scores, 2).tolist() == [[1, 2], [0, 1]]
    assert top_rows(scores, 9).tolist() == [[1, 2, 4, 0, 3], [0, 1, 2, 3, 4]]


def test_top_k_rows_matches_argsort_and_breaks_ties_by_index():
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(7, 5)), rng.normal(size=(40, 5))
    expected = np.argsort(-(q @ d.T), axis=1, kind="stable")[:, :6]
    assert top_k_rows(q, d, 6, chunk=3).tolist() == expected.tolist()
    tied = np.ones((2, 5))
    assert top_k_rows(tied, np.ones((9, 5)), 4).tolist() == [[0, 1, 2, 3]] * 2


def test_docret_metrics_agree_with_ir_measures():
    ir_measures = pytest.importorskip("ir_measures")
    from ir_measures import AP, P, Qrel, ScoredDoc, nDCG

    rng = np.random.default_rng(7)
    n_docs, depth = 60, 25
    qrels, run, rows, ideal, n_rel = [], [], [], [], []
    for q in range(12):
        grades = rng.choice([0, 0, 0, 1, 2, 3], size=n_docs) * (q != 11)  # q11: nothing relevant
        judged_docs = rng.random(n_docs) < 0.7
        # q11 has no judgment at all: trec_eval (and ir-measures) skip such a query
        for d in np.flatnonzero(judged_docs) if q != 11 else []:
            qrels.append(Qrel(f"q{q}", f"d{d}", int(grades[d])))
        # short rankings for some queries: P@20 must still divide by 20
        ranked = rng.permutation(n_docs)[: depth if q % 3 else 12]
        run += [ScoredDoc(f"q{q}", f"d{d}", float(depth - r)) for r, d in enumerate(ranked)]
        gains = np.where(judged_docs, grades, 0)
        rows.append(np.pad(gains[ranked], (0, depth - len(ranked))))
        ideal.append(gains[judged_docs & (gains > 0)])
        n_rel.append(int((ideal[-1] > 0).sum()))
    gains, n_rel = np.array(rows), np.array(n_rel)
    keep = judged(n_rel)  # trec_eval leaves q11 out
    assert len(keep) == 11
    expected = ir_measures.calc_aggregate([AP, AP @ 10, nDCG @ 10, P @ 5, P @ 20], qrels, run)
    ours = {
        AP: average_precision(gains, n_rel)[keep].mean(),
        AP @ 10: average_precision(gains, n_rel, 10)[keep].mean(),
        nDCG @ 10: ndcg_at_k(gains, ideal, 10)[keep].mean(),
        P @ 5: precision_at_k(gains, 5)[keep].mean(),
        P @ 20: precision_at_k(gains, 20)[keep].mean(),
    }
    for measure, value in ours.items():
        assert value == pytest.approx(expected[measure], abs=1e-9), measure
