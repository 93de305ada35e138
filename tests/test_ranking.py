import numpy as np
import pytest

from docret.errors import QueryError
from docret.rank.base import normalize_rows, top_k
from docret.rank.codes import hamming_distances, pack_bits, popcount, smallest_k
from docret.rank.lexical import InvertedIndex


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


def test_a_large_inverted_index_is_built_to_the_same_arrays(monkeypatch):
    from docret.rank import lexical as ranking

    rng = np.random.default_rng(3)
    n_docs, n_terms = 200, 50
    rows = [rng.permutation(n_terms)[: rng.integers(0, 12)] for _ in range(n_docs)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    indices = np.concatenate(rows).astype(np.int32)  # unsorted within each document
    weights = rng.random(len(indices)).astype(np.float32)
    small = InvertedIndex(indptr, indices, weights, n_terms)
    monkeypatch.setattr(ranking, "LARGE_POSTINGS", 1)
    large = InvertedIndex(indptr, indices, weights, n_terms)
    for name in ("docs", "weights", "starts"):
        a, b = getattr(small, name), getattr(large, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


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
    import docret.rank.codes as ranking

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
    from docret.rank.base import logits

    x = np.linspace(-8, 8, 33, dtype=np.float32)
    assert np.allclose(logits(1 / (1 + np.exp(-x))), x, atol=1e-3)
    saturated = logits(np.array([0.0, 1.0], dtype=np.float32))
    assert np.all(np.isfinite(saturated)) and saturated[0] < -13 and saturated[1] > 13


def _bm25_fixture():
    docs = [
        "hypersonic flow heat transfer heat",
        "boundary layer flow over a flat plate",
        "heat conduction in composite slabs",
        "shock wave hypersonic boundary layer layer layer",
        "wing slipstream lift",
    ]
    return [d.split() for d in docs]


def test_bm25_scores_equal_bm25s():
    import bm25s

    from docret.lexicon import count_terms
    from docret.rank.lexical import Bm25

    tokens = _bm25_fixture()
    lexicon: dict[str, int] = {}
    csr = count_terms(tokens, lexicon)
    # bm25s' defaults (Lucene idf, k1=1.5, b=0.75: the evaluate baseline), then settings a
    # corpus may choose (docret.rank.calibrate.BM25_GRID)
    for k1, b in [(None, None), (0.6, 0.3), (2.0, 0.9)]:
        if k1 is None:
            bm25, reference = Bm25(*csr, n_terms=len(lexicon)), bm25s.BM25()
        else:
            bm25, reference = Bm25(*csr, len(lexicon), k1, b), bm25s.BM25(k1=k1, b=b)
        reference.index(tokens, show_progress=False)
        # Calibration's way to the same parameters: the defaults' postings reweighted.
        reweighted = Bm25(*csr, n_terms=len(lexicon)).with_parameters(bm25.k1, bm25.b)
        for query in (["hypersonic", "heat"], ["layer", "layer", "flow"], ["lift"]):
            ids = np.array([lexicon[t] for t in dict.fromkeys(query)])
            counts = np.array([query.count(t) for t in dict.fromkeys(query)], dtype=np.float32)
            expected = reference.get_scores(query)
            np.testing.assert_allclose(bm25.scores(ids, counts), expected, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(
                reweighted.scores(ids, counts), expected, rtol=1e-5, atol=1e-6
            )


def test_bm25_of_an_unindexed_text_equals_its_score_once_indexed():
    from docret.lexicon import count_terms, query_terms
    from docret.rank.lexical import Bm25, matched_counts

    tokens = _bm25_fixture()
    lexicon: dict[str, int] = {}
    bm25 = Bm25(*count_terms(tokens, lexicon), n_terms=len(lexicon))
    q_ids, q_counts = query_terms(str.split, "hypersonic boundary layer", lexicon)
    d_ids, d_counts = query_terms(str.split, " ".join(tokens[3]), lexicon)
    tf, length = matched_counts(q_ids, d_ids, d_counts)
    assert bm25.score_matched(q_ids, q_counts, tf, length) == pytest.approx(
        bm25.scores(q_ids, q_counts)[3], rel=1e-5
    )
    assert (
        bm25.score_matched(q_ids, q_counts, *matched_counts(q_ids, d_ids[:0], d_counts[:0])) == 0.0
    )


def test_count_terms_grows_the_lexicon_only_when_asked():
    from docret.lexicon import count_terms

    lexicon: dict[str, int] = {}
    indptr, ids, counts = count_terms([["a", "b", "a"], [], ["c"]], lexicon)
    assert lexicon == {"a": 0, "b": 1, "c": 2}
    assert indptr.tolist() == [0, 2, 2, 3] and ids.tolist() == [0, 1, 2]
    assert counts.tolist() == [2, 1, 1]
    _, ids, _ = count_terms([["a", "zzz"]], lexicon, grow=False)
    assert ids.tolist() == [0] and "zzz" not in lexicon


def _space(cosines) -> tuple[np.ndarray, np.ndarray]:
    """Unit 2-D document vectors whose cosines with the query's, (1, 0), are ``cosines``."""
    c = np.asarray(cosines, dtype=np.float64)
    return np.stack([c, np.sqrt(1.0 - c**2)], axis=1), np.array([1.0, 0.0])


def test_fusion_at_weight_zero_ranks_as_the_lexical_score_and_scales_each_row():
    from docret.rank.base import min_max
    from docret.rank.default import fuse_with_feedback

    rng = np.random.default_rng(5)
    lexical, semantic = rng.random((3, 50)) * 12, np.tanh(rng.normal(size=(3, 50)))
    for row in range(3):
        fused = fuse_with_feedback(lexical[row], _space(semantic[row]), 0.0)
        assert top_k(fused, 10).tolist() == top_k(lexical[row], 10).tolist()
    scaled = min_max(lexical)
    assert np.allclose(scaled.min(axis=1), 0) and np.allclose(scaled.max(axis=1), 1)
    assert np.all(min_max(np.ones((1, 4))) == 0)
    # weight 1 would be the semantic score alone
    alone = fuse_with_feedback(lexical[0], _space(semantic[0]), 1.0, moved=0.0)
    assert top_k(alone, 5).tolist() == top_k(semantic[0], 5).tolist()


def test_method_names():
    from docret.rank import METHODS, method_name

    assert method_name(None) == "default" and method_name(None, hybrid=True) == "hybrid"
    assert [method_name(m) for m in METHODS] == list(METHODS)
    with pytest.raises(ValueError, match="Unknown ranking method .lda."):
        method_name("lda")
    with pytest.raises(ValueError, match="contradicts"):
        method_name("bm25", hybrid=True)


def test_cli_offers_exactly_the_ranking_methods():
    from docret.cli import query
    from docret.rank import METHODS

    option = next(p for p in query.params if p.name == "method")
    assert tuple(option.type.choices) == tuple(METHODS)


def test_every_ranking_method_has_a_title_a_menu_entry_and_a_ranker():
    from docret.rank import METHODS, help_text, ranker

    for name, method in METHODS.items():
        # The CLI titles the default by what weighs in it (Index.default_ranking).
        assert method.title or name == "default"
        assert method.menu and callable(ranker(name))
        assert f"{name} = {method.help}" in help_text()


def test_query_weights_move_from_the_short_pair_to_the_long_pair_as_queries_lengthen():
    from docret.rank.default import SHORT_QUERY_TERMS, query_weights

    short, long = (0.2, 0.3), (0.7, 0.1)
    assert query_weights(short, long, 5, 40) == short
    assert query_weights(short, long, SHORT_QUERY_TERMS, 40) == short
    # the long pair from the long pseudo-queries' median length, at least twice a question's
    assert query_weights(short, long, 40, 40) == pytest.approx(long)
    assert query_weights(short, long, 2 * SHORT_QUERY_TERMS, 10) == pytest.approx(long)
    assert query_weights(short, long, 900, 40) == pytest.approx(long)
    middle = query_weights(short, long, np.sqrt(SHORT_QUERY_TERMS * 100), 100)  # log scale
    assert middle == pytest.approx(((0.2 + 0.7) / 2, (0.3 + 0.1) / 2))
    assert query_weights(short, short, 500, 40) == short  # no long pair chosen: no move
    assert query_weights((0.0, 0.0), (0.0, 0.0), 500, 40) == (0.0, 0.0)  # BM25 alone


def test_long_queries_get_the_pair_their_own_pseudo_queries_choose():
    from docret.lexicon import LexicalIndex
    from docret.rank.calibrate import LONG_SPAN_WORDS, Spaces, calibrate
    from docret.rank.choice import FusionChoice
    from docret.text import Analyzer

    rng = np.random.default_rng(0)
    vocab = sorted({"".join(rng.choice(list("bcdfghklmnprstvz"), 6)) for _ in range(300)})
    # documents long enough for long pseudo-queries, and some too short for them
    texts = [" ".join(rng.choice(vocab, size=int(rng.integers(40, 400)))) for _ in range(120)]
    analyze = Analyzer()
    lexical = LexicalIndex.from_texts(texts, analyze)

    def embed(batch):
        return [rng.normal(size=(len(batch), 4))]

    spaces = Spaces(rng.normal(size=(len(texts), 4)), embed)

    choice = calibrate(texts, analyze, lexical, spaces)
    eligible = sum(len(t.split()) >= 3 * LONG_SPAN_WORDS[1] for t in texts)
    assert choice.long is not None and choice.long_queries == eligible
    assert 2 * LONG_SPAN_WORDS[0] / 3 <= choice.long_terms <= LONG_SPAN_WORDS[1]
    again = FusionChoice.from_dict(choice.to_dict())
    assert (again.long, again.long_queries, again.long_chosen_by) == (
        choice.long,
        choice.long_queries,
        choice.long_chosen_by,
    )
    assert again.long_terms == choice.long_terms
    # a corpus without documents that long keeps its pair at every length
    short = calibrate([t[:300] for t in texts], analyze, lexical, spaces)
    assert short.long is None and short.weights_for(500) == (short.codes, short.lsa)


def test_fusion_weighs_the_min_max_scaled_scores():
    from docret.rank.default import fuse_with_feedback

    def fuse(*args):  # the first pass alone
        return fuse_with_feedback(*args, moved=0.0)

    lexical = np.array([0.0, 2.0, 4.0])
    semantic = _space([1.0, 0.0, 0.5])
    lsa = _space([0.0, 1.0, 0.0])
    np.testing.assert_allclose(fuse(lexical, semantic, 0.0), lexical)  # BM25 as it is
    np.testing.assert_allclose(fuse(lexical, semantic, 0.5), [0.5, 0.25, 0.75], rtol=1e-6)
    np.testing.assert_allclose(fuse(lexical, semantic, 0.2, lsa, 0.3), [0.2, 0.55, 0.6], rtol=1e-6)
    # Without LSA vectors (an index built before them) their weight is not taken from BM25.
    without = fuse(lexical, semantic, 0.2, None, 0.3)
    np.testing.assert_allclose(without, fuse(lexical, semantic, 0.2))


def test_fuse_with_feedback_ranks_again_with_the_query_moved_toward_its_top_documents():
    from docret.rank.default import fuse_with_feedback

    lexical = np.array([0.0, 1.0, 0.5])
    docs = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])  # unit rows
    query = np.array([2.0, 0.0])  # its length does not matter
    # First fusion: 0.5 x [0, 1, 0.5] + 0.5 x min-max([1, 0, 0.6]) = [0.5, 0.5, 0.55]: the
    # third document comes first. The query moves to (1, 0) + (0.6, 0.8), whose cosines
    # min-max scale to [1, 0, 1]: 0.5 x [0, 1, 0.5] + 0.5 x [1, 0, 1].
    moved = fuse_with_feedback(lexical, (docs, query), 0.5, docs=1)
    np.testing.assert_allclose(moved, [0.5, 0.5, 0.75], rtol=1e-6)
    once = fuse_with_feedback(lexical, (docs, query), 0.5, docs=1, moved=0.0)
    np.testing.assert_allclose(once, [0.5, 0.5, 0.55], rtol=1e-6)
    # LSA alone moves the same way; weights of 0 give the lexical scores and read no space
    # (these have the wrong shapes on purpose).
    np.testing.assert_allclose(fuse_with_feedback(lexical, None, 0.0, (docs, query), 0.5, 1), moved)
    wrong = (np.zeros((3, 5)), np.zeros(7))
    np.testing.assert_array_equal(fuse_with_feedback(lexical, wrong, 0.0, wrong, 0.0), lexical)
    # Without LSA vectors (an index built before them) their weight is not taken from BM25.
    without = fuse_with_feedback(lexical, (docs, query), 0.5, None, 0.3, 1, moved=0.0)
    np.testing.assert_allclose(without, once, rtol=1e-6)


# -- fusion weight from pseudo-queries --------------------------------------------------------
def test_pseudo_queries_cut_a_span_out_of_long_documents_seeded():
    from docret.rank.calibrate import pseudo_queries

    texts = [" ".join(f"w{i}_{j}" for j in range(60)) for i in range(30)] + ["too short"]
    first = pseudo_queries(texts, n=10, seed=3, span=(5, 12))
    assert first == pseudo_queries(texts, n=10, seed=3, span=(5, 12))
    assert len(first) == 10 and all(q.doc < 30 for q in first)
    for q in first:
        span, rest = q.text.split(), q.rest.split()
        assert 5 <= len(span) <= 12 and len(span) + len(rest) == 60
        assert not set(span) & set(rest)  # the answer is scored without the span's words
        assert q.text in texts[q.doc]
    among = [3, 7, 8, 30, 12]  # 30 is too short to cut a span from
    some = pseudo_queries(texts, n=10, seed=3, span=(5, 12), among=among)
    assert sorted(q.doc for q in some) == [3, 7, 8, 12]
    every = pseudo_queries(texts, n=10, seed=3, span=(5, 12), among=range(len(texts)))
    assert every == first


def test_reciprocal_ranks_follow_the_tie_rule_of_top_k():
    from docret.rank.calibrate import reciprocal_ranks

    scores = np.array([[0.2, 0.9, 0.9, 0.1], [0.5, 0.5, 0.5, 0.5]])
    # row 0: the answer 2 is tied with 1, which has the lower index and ranks first
    assert reciprocal_ranks(scores, [2, 0]).tolist() == [0.5, 1.0]
    for row, answer in ((0, 2), (1, 0)):
        rank = top_k(scores[row], 4).tolist().index(answer) + 1
        assert reciprocal_ranks(scores, [2, 0])[row] == 1 / rank


def test_choose_weight_picks_bm25_alone_when_the_codes_are_noise_and_fuses_when_they_help():
    from docret.rank.calibrate import CODES_ONLY, FUSION_GRID, choose_weight

    rng = np.random.default_rng(0)
    n_queries, n_docs = 60, 200
    answers = rng.integers(0, n_docs, n_queries)
    lexical = rng.random((n_queries, n_docs))
    lexical[np.arange(n_queries), answers] += rng.random(n_queries) * 0.6  # a weak lexical hint
    noise = rng.random((n_queries, n_docs))
    assert choose_weight(mean_reciprocal_ranks(lexical, noise, answers), 60).codes == 0.0
    helpful = rng.random((n_queries, n_docs)) * 0.5
    helpful[np.arange(n_queries), answers] = 1.0  # the semantic score knows the answer
    mrr = mean_reciprocal_ranks(lexical, helpful, answers)
    choice = choose_weight(mrr, n_queries)
    assert choice.codes > 0 and choice.lsa == 0.0
    assert choice.mrr[(choice.codes, 0.0)] > choice.mrr[(0.0, 0.0)]
    assert choice.queries == n_queries and set(choice.mrr) == set(CODES_ONLY)
    # Noisy codes beside a helpful LSA score: LSA gets the weight, the codes none.
    both = choose_weight(mean_reciprocal_ranks(lexical, noise, answers, FUSION_GRID, helpful), 60)
    assert both.codes == 0.0 and both.lsa > 0 and set(both.mrr) == set(FUSION_GRID)


def test_choose_weight_takes_the_smallest_total_weight_with_half_the_best_gain():
    from dataclasses import replace

    from docret.rank.calibrate import choose_weight
    from docret.rank.choice import FusionChoice

    mrr = {(0.0, 0.0): 0.10, (0.1, 0.0): 0.11, (0.2, 0.0): 0.13, (0.3, 0.0): 0.14}
    mrr |= {(0.0, 0.1): 0.10, (0.0, 0.2): 0.125, (0.1, 0.1): 0.12, (0.2, 0.2): 0.12}
    # gain 0.04 at (0.3, 0); (0.2, 0) and (0, 0.2) gain half of it with the least total
    # weight, and (0.2, 0) gains more of the two
    choice = choose_weight(mrr, 5)
    assert (choice.codes, choice.lsa) == (0.2, 0.0)
    assert choose_weight({(0.0, 0.0): 0.2, (0.1, 0.0): 0.2, (0.0, 0.1): 0.1}, 5).codes == 0.0
    assert FusionChoice.from_dict(choice.to_dict()) == choice
    tuned = replace(choice, k1=0.9, b=0.5, bm25_mrr={(1.5, 0.75): 0.1, (0.9, 0.5): 0.125})
    assert FusionChoice.from_dict(tuned.to_dict()) == tuned


def test_labels_choose_the_pair_whose_top_documents_share_the_query_documents_label():
    from docret.rank.calibrate import (
        FUSION_GRID,
        choose_topical,
        choose_weight,
    )
    from docret.rank.choice import FusionChoice

    rng = np.random.default_rng(0)
    n_queries, n_docs = 80, 300
    labels = rng.integers(0, 10, n_docs)
    own = rng.integers(0, n_docs, n_queries)
    lexical = rng.random((n_queries, n_docs))
    lexical[np.arange(n_queries), own] = 2.0  # BM25 finds each query's own document, no more
    topical = rng.random((n_queries, n_docs)) * 0.5
    topical += labels[None, :] == labels[own][:, None]  # the codes know the topics
    noise = rng.random((n_queries, n_docs))

    def relevant(r, docs):
        return labels[docs] == labels[own[r]]

    known = choose_weight({p: 0.0 for p in FUSION_GRID} | {(0.0, 0.0): 0.5}, n_queries)
    assert (known.codes, known.lsa) == (0.0, 0.0)  # known-item pseudo-queries: BM25 alone
    p10 = precisions_by_label(lexical, topical, relevant, own, FUSION_GRID, noise)
    # The own document is left out: BM25 alone is at chance (a tenth of the documents).
    assert abs(p10[(0.0, 0.0)].mean() - 0.1) < 0.05 and p10[(0.9, 0.0)].mean() == 1.0
    choice = choose_topical(p10, known)
    assert choice.chosen_by == "labels" and choice.codes > 0 and choice.lsa == 0.0
    # The best precision at the smallest total weight that reaches it.
    best = [p for p, v in choice.topical.items() if v == 1.0]
    assert choice.codes + choice.lsa == min(a + b for a, b in best)
    stored = FusionChoice.from_dict(choice.to_dict())  # scores rounded to 4 places
    assert stored.to_dict() == choice.to_dict() and stored.chosen_by == "labels"
    # Labels that say nothing of what the codes know: the known-item choice stands, and the
    # precisions are kept for `docret info --json`.
    shuffled = rng.permutation(labels)
    p10 = precisions_by_label(
        lexical, noise, lambda r, docs: shuffled[docs] == shuffled[own[r]], own, FUSION_GRID, noise
    )
    fallback = choose_topical(p10, known)
    assert fallback.chosen_by == "known items" and (fallback.codes, fallback.lsa) == (0.0, 0.0)
    assert set(fallback.topical) == set(FUSION_GRID)


def test_choose_bm25_keeps_bm25s_defaults_unless_another_setting_is_clearly_better():
    from docret.rank.calibrate import BM25_GRID, choose_bm25
    from docret.rank.lexical import BM25_B, BM25_K1

    rng = np.random.default_rng(0)
    default = 1 / rng.integers(1, 50, 1000)
    ranks = {p: default.copy() for p in BM25_GRID}
    assert choose_bm25(ranks) == (BM25_K1, BM25_B)  # all equal
    # A small gain on a few queries is what the best of 20 settings shows by chance.
    ranks[(0.9, 0.5)] = default + (rng.random(1000) < 0.02) * rng.normal(0.05, 0.2, 1000)
    assert choose_bm25(ranks) == (BM25_K1, BM25_B)
    # A gain on many queries, far above its standard error, is taken.
    ranks[(0.6, 0.3)] = np.minimum(1.0, default * 1.3 + rng.normal(0, 0.01, 1000))
    assert choose_bm25(ranks) == (0.6, 0.3)
    del ranks[(BM25_K1, BM25_B)]  # nothing to compare with: the defaults
    assert choose_bm25(ranks) == (BM25_K1, BM25_B)


def test_calibrate_chooses_bm25_parameters_from_the_pseudo_queries():
    """Short documents that share a long one's words crowd it out of a span's ranking when
    BM25 normalises length fully; the pseudo-queries (cut from the long ones) see that and
    choose less normalisation, and the fusion weights are chosen with that BM25."""
    from docret.lexicon import LexicalIndex
    from docret.rank.calibrate import BM25_GRID, Draw, Spaces, calibrate
    from docret.text import Analyzer

    rng = np.random.default_rng(0)
    syllables = ["ka", "lo", "mi", "nu", "pe", "ro", "si", "ta", "vu", "ze"]
    words = [a + b + c for a in syllables for b in syllables for c in syllables[:4]]
    long = [" ".join(rng.choice(words, 80)) for _ in range(60)]
    short = [" ".join(rng.choice(long[i % 60].split(), 4)) for i in range(600)]
    texts = long + short
    analyze = Analyzer()
    lexical = LexicalIndex.from_texts(texts, analyze)
    codes = rng.normal(size=(len(texts), 8)).astype(np.float32)  # noise: BM25 alone

    def embed(batch):
        return [rng.normal(size=(len(batch), 8)).astype(np.float32)]

    choice = calibrate(texts, analyze, lexical, Spaces(codes, embed), Draw(n=60))
    assert set(choice.bm25_mrr) == set(BM25_GRID) and choice.queries == 60
    assert choice.b < 0.75 and choice.bm25_mrr[(choice.k1, choice.b)] > choice.bm25_mrr[(1.5, 0.75)]
    assert (choice.codes, choice.lsa) == (0.0, 0.0)
    # No semantic spaces (a binary index): the same BM25 parameters, and no weights weighed.
    alone = calibrate(texts, analyze, lexical, None, Draw(n=60))
    assert (alone.k1, alone.b, alone.bm25_mrr) == (choice.k1, choice.b, choice.bm25_mrr)
    assert alone.mrr == {} and (alone.codes, alone.lsa, alone.queries) == (0.0, 0.0, 60)
    # Every document the same length: length normalisation changes nothing, k1 little.
    even = [" ".join(rng.choice(words, 60)) for _ in range(200)]
    lexical = LexicalIndex.from_texts(even, analyze)
    codes = rng.normal(size=(len(even), 8)).astype(np.float32)
    choice = calibrate(even, analyze, lexical, Spaces(codes, embed), Draw(n=60))
    assert (choice.k1, choice.b) == (1.5, 0.75)


def test_neighbour_topics_are_the_closest_other_documents_by_tfidf_cosine():
    import scipy.sparse as sp

    from docret.rank.calibrate import label_topics, neighbour_topics

    rng = np.random.default_rng(0)
    dense = rng.random((120, 40)) * (rng.random((120, 40)) < 0.2)
    dense[:, 39] = 0.0
    dense[7] = 0.0
    dense[7, 39] = 1.0  # a word no other document has
    dense = normalize_rows(dense)
    docs = np.array([0, 7, 55, 119])
    near = neighbour_topics(sp.csr_matrix(dense), k=5)(docs)
    assert near.shape == (4, 120) and near.dtype == bool
    sims = dense @ dense.T
    for doc, answers in zip(docs, near, strict=True):
        if doc == 7:
            assert not answers.any()  # shares no word: no topical answer
            continue
        others = np.delete(np.arange(120), doc)
        expected = others[np.argsort(-sims[doc, others], kind="stable")[:5]]
        assert np.flatnonzero(answers).tolist() == sorted(expected.tolist())
    # By labels: every document that shares one of its labels (itself too: calibrate drops it).
    sets = [frozenset({"a"}), frozenset({"b"}), frozenset({"a", "c"}), frozenset(), frozenset("c")]
    marked = label_topics(sets)(np.array([0, 3, 4]))
    assert marked.tolist() == [
        [True, False, True, False, False],
        [False] * 5,
        [False, False, True, False, True],
    ]


def _topical_corpus(rng):
    """Documents on 8 topics (20 words from the topic's own 120, 40 from 40 shared ones), an
    analyser, and an embedding that knows each word's topic (a perfect topical code)."""
    from docret.text import Analyzer

    syllables = ["ka", "lo", "mi", "nu", "pe", "ro", "si", "ta", "vu", "ze"]
    words = [a + b + c for a in syllables for b in syllables for c in syllables]
    topic_words = [words[t * 120 : (t + 1) * 120] for t in range(8)]
    texts, topics = [], []
    for t in range(8):
        for _ in range(40):
            drawn = list(rng.choice(topic_words[t], 20)) + list(rng.choice(words[960:], 40))
            rng.shuffle(drawn)
            texts.append(" ".join(drawn))
            topics.append(t)
    analyze = Analyzer()
    topic_of = {analyze(w)[0]: t for t in range(8) for w in topic_words[t]}

    def embed(batch):
        out = np.full((len(batch), 8), 0.01, dtype=np.float32)
        for i, text in enumerate(batch):
            for stem in analyze(text):
                if stem in topic_of:
                    out[i, topic_of[stem]] += 1
        return [out, out]

    return texts, np.array(topics), analyze, embed


def test_unlabelled_pseudo_queries_are_answered_topically_by_their_documents_neighbours():
    """Codes that know the topics find a span's document's neighbours better than BM25 does:
    the neighbours choose more weight for them than the known-item rule, and neighbours that
    say nothing of topics (another document's) leave the choice to that rule."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from docret.lexicon import LexicalIndex
    from docret.rank.calibrate import FUSION_GRID, Draw, Spaces, Topical, calibrate

    rng = np.random.default_rng(0)
    texts, topics, analyze, embed = _topical_corpus(rng)
    lexical = LexicalIndex.from_texts(texts, analyze)
    codes = embed(texts)[0]
    tfidf = TfidfVectorizer(analyzer=analyze, sublinear_tf=True).fit_transform(texts).tocsr()

    def choose(**kwargs):
        spaces = Spaces(codes, embed, codes)
        return calibrate(texts, analyze, lexical, spaces, Draw(n=200), Topical(**kwargs))

    known = choose()
    assert known.chosen_by == "known items" and known.topical == {}
    near = choose(tfidf=tfidf)
    assert near.chosen_by == "neighbours" and set(near.topical) == set(FUSION_GRID)
    assert near.codes + near.lsa > known.codes + known.lsa
    assert near.topical[(near.codes, near.lsa)] > near.topical[(0.0, 0.0)]
    best = choose(tfidf=tfidf, within=0.0)  # the best pair itself, as labels take it
    assert best.topical[(best.codes, best.lsa)] == max(best.topical.values())
    assert near.codes + near.lsa <= best.codes + best.lsa
    assert near.mrr == known.mrr  # the known-item measure is the same
    shuffled = choose(tfidf=tfidf[rng.permutation(len(texts))])
    assert shuffled.chosen_by == "known items"
    assert (shuffled.codes, shuffled.lsa) == (known.codes, known.lsa)
    # Labels come first where they tell topics apart; labels that do not (a folder per
    # year, say) leave the choice to the neighbours.
    by_topic = choose(tfidf=tfidf, labels=[[str(t)] for t in topics])
    assert by_topic.chosen_by == "labels"
    by_year = choose(tfidf=tfidf, labels=[[str(i % 3)] for i in range(len(texts))])
    assert by_year.chosen_by == "neighbours"
    assert (by_year.codes, by_year.lsa) == (near.codes, near.lsa)


def test_within_takes_the_smallest_weights_no_clearly_worse_than_the_best():
    from docret.rank.calibrate import FUSION_GRID, choose_topical
    from docret.rank.choice import FusionChoice

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.3, 400)
    precisions = {p: np.full(400, 0.1) for p in FUSION_GRID}  # BM25 level everywhere
    precisions[(0.5, 0.4)] = 0.30 + noise  # the best, far above BM25
    # 0.002 below it, its paired differences' standard error 0.0025: within one of it.
    alternate = np.tile([0.05, -0.05], 200)
    precisions[(0.2, 0.1)] = precisions[(0.5, 0.4)] - 0.002 + alternate
    precisions[(0.1, 0.0)] = 0.20 + noise  # clearly worse than the best
    known = FusionChoice(0.0)
    best = choose_topical(precisions, known, "neighbours")
    assert (best.codes, best.lsa, best.chosen_by) == (0.5, 0.4, "neighbours")
    near = choose_topical(precisions, known, "neighbours", within=1.0)
    assert (near.codes, near.lsa, near.chosen_by) == (0.2, 0.1, "neighbours")
    # Nothing clearly above BM25: the fallback, whatever ``within`` says.
    flat = {p: np.full(400, 0.1) + rng.normal(0, 0.01, 400) for p in FUSION_GRID}
    assert choose_topical(flat, known, "neighbours", within=1.0).chosen_by == "known items"


def test_labels_count_only_where_they_tell_topics_apart():
    from docret.rank.calibrate import MIN_PSEUDO_QUERIES, _label_sets

    docs = list(range(MIN_PSEUDO_QUERIES))
    assert _label_sets(None, docs) is None
    assert _label_sets([("a",)] * len(docs), docs) is None  # one label for all
    assert _label_sets([()] * len(docs), docs) is None  # none
    two = [("a",), ("b", "c")] * len(docs)
    assert _label_sets(two, docs) == [frozenset(x) for x in two]
    assert _label_sets(two, docs[:-1]) is None  # too few labelled pseudo-queries


# -- the index's default ranking --------------------------------------------------------------
@pytest.fixture()
def index(built_db):
    from docret.index import Index

    with Index.open(built_db) as idx:
        yield idx


def test_index_bm25_ranks_as_bm25s_over_the_stored_texts(index):
    import bm25s

    analyzer = index.vectorizer.analyzer
    docs = index.store.documents(index.ids)
    reference = bm25s.BM25(k1=index.fusion.k1, b=index.fusion.b)  # the corpus' choice
    reference.index([analyzer(docs[i].text) for i in index.ids], show_progress=False)
    for text in ("anchor hull", "orbit rocket launch", "flour"):
        expected = reference.get_scores(analyzer(text))
        hits = index.query(text, k=10, method="bm25")
        assert [h.id for h in hits] == [index.ids[i] for i in top_k(expected, 10)]
        np.testing.assert_allclose([h.score for h in hits], np.sort(expected)[::-1][:10], rtol=1e-5)


def test_an_index_ranks_by_bm25_at_its_stored_parameters(tmp_path, built_db):
    import shutil

    import bm25s

    from docret.index import Index

    db = tmp_path / "tuned.db"
    shutil.copy(built_db, db)
    with Index.open(db) as idx:
        stored = idx.info()["ranking"]
        assert (stored["bm25"]["k1"], stored["bm25"]["b"]) == (idx.fusion.k1, idx.fusion.b)
        ranking = {k: v for k, v in stored.items() if k != "default"}
        ranking["bm25"] = {**ranking["bm25"], "k1": 0.6, "b": 0.3}
        model_id = idx.store.current_model_id()
        idx.store.set_ranking(model_id, ranking)
    with Index.open(db) as idx:
        assert (idx.fusion.k1, idx.fusion.b) == (0.6, 0.3)
        analyzer = idx.vectorizer.analyzer
        docs = idx.store.documents(idx.ids)
        reference = bm25s.BM25(k1=0.6, b=0.3)
        reference.index([analyzer(docs[i].text) for i in idx.ids], show_progress=False)
        expected = reference.get_scores(analyzer("anchor hull"))
        hits = idx.query("anchor hull", k=5, method="bm25")
        np.testing.assert_allclose([h.score for h in hits], np.sort(expected)[::-1][:5], rtol=1e-5)
        assert idx.info()["ranking"]["bm25"]["k1"] == 0.6  # what `info --json` prints


def test_default_ranking_fuses_bm25_codes_and_lsa_at_the_stored_weights(index):
    from docret.rank.calibrate import FUSION_GRID
    from docret.rank.default import fuse_with_feedback

    choice = index.fusion
    assert (choice.codes, choice.lsa) in FUSION_GRID and choice.queries >= 20
    assert set(choice.mrr) == set(FUSION_GRID)  # the model keeps LSA directions
    ranking = index.info()["ranking"]
    assert (ranking["codes"], ranking["lsa"]) == (choice.codes, choice.lsa)
    # The fixture's documents are labelled by topic: their precisions by label were measured.
    assert set(choice.topical) == set(FUSION_GRID) and ranking["chosen_by"] == choice.chosen_by
    text = "anchor hull breeze"
    vec = index.vectorize(text)
    code = normalize_rows(index.encoder.encode([vec]))[0]
    bm25, n_terms = index.snapshot.lexical.scores(index.vectorizer.analyzer, text)
    assert n_terms == 3  # a typed question: the corpus' weights as chosen
    snap = index.snapshot
    lsa = snap.lsa_of(vec)
    expected = fuse_with_feedback(
        bm25, (snap.unit_codes, code), choice.codes, (snap.unit_lsa, lsa), choice.lsa
    )
    assert (choice.codes, choice.lsa) != (0.0, 0.0)  # else this would test BM25 alone
    hits = index.query(text, k=8)
    assert [h.id for h in hits] == [index.ids[i] for i in top_k(expected, 8)]
    assert index.query_many([text], k=8, method="default") == [hits]
    with pytest.raises(Exception, match="Unknown ranking method"):
        index.query(text, method="lda")


def test_default_ranking_is_named_by_the_scores_that_weigh_in_it(index):
    from dataclasses import replace

    from docret.rank.choice import FusionChoice

    snap = index.snapshot
    assert snap.lsa is not None and snap.bits is None
    for pair, name in [
        ((0.2, 0.4), "BM25 + learned codes + LSA"),
        ((0.0, 0.6), "BM25 + LSA"),  # the bundled sample's weights: no "learned codes"
        ((0.3, 0.0), "BM25 + learned codes"),
        ((0.0, 0.0), "BM25"),
    ]:
        index._snapshot = replace(snap, fusion=FusionChoice(pair[0], lsa=pair[1]))
        assert index.default_ranking() == name


def test_lsa_ranks_by_the_cosine_of_the_models_lsa_vectors(index):
    from docret.lsa import project

    snap = index.snapshot
    k = snap.lsa.shape[0]
    assert 0 < k <= 128 and snap.lsa.shape[1] == len(index.vectorizer.terms)
    # The stored documents' LSA vectors are their tf-idf vectors on the model's directions.
    _, indptr, indices, weights = index.store.load_vectors()
    dense = np.zeros((len(index.ids), snap.lsa.shape[1]), dtype=np.float32)
    for row in range(len(index.ids)):
        a, b = indptr[row], indptr[row + 1]
        dense[row, indices[a:b]] = weights[a:b]
    np.testing.assert_allclose(snap.unit_lsa, project(dense, snap.lsa), atol=1e-5)
    text = "orbit rocket launch"
    vec = index.vectorize(text)
    tfidf = np.zeros(snap.lsa.shape[1], dtype=np.float32)
    tfidf[vec.indices] = vec.values
    query = project(tfidf[None], snap.lsa)[0]
    hits = index.query(text, k=5, method="lsa")
    assert [h.id for h in hits] == [index.ids[i] for i in top_k(snap.unit_lsa @ query, 5)]
    assert "space" in hits[0].id


def test_likelihood_ranks_by_the_decoders_log_probability_of_the_query_words(index):
    import torch

    from docret.model import Autoencoder, AutoencoderConfig
    from docret.rank.base import min_max
    from docret.rank.likelihood import LIKELIHOOD_COSINE

    snap = index.snapshot
    model = Autoencoder(AutoencoderConfig.from_dict(snap.model["config"])).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in snap.weights.items() if k != "lsa"})
    text = "orbit rocket launch"
    vec = index.vectorize(text)
    with torch.no_grad():
        log_p = torch.log_softmax(model.decode(torch.from_numpy(snap.codes)), dim=1).numpy()
    # Each document's log-probabilities of the query's words, weighted by their tf-idf, and
    # the code cosine, each min-max scaled.
    likelihood = log_p[:, vec.indices] @ (vec.values / vec.values.sum())
    cosine = snap.unit_codes @ normalize_rows(index.encode([text]))[0]
    expected = (1 - LIKELIHOOD_COSINE) * min_max(likelihood) + LIKELIHOOD_COSINE * min_max(cosine)
    hits = index.query(text, k=5, method="likelihood")
    best = top_k(expected, 5)
    assert [h.id for h in hits] == [index.ids[i] for i in best]
    np.testing.assert_allclose([h.score for h in hits], expected[best], atol=1e-4)
    assert 0 < hits[-1].score <= hits[0].score <= 1 and "space" in hits[0].id
    # The likelihood weighs: it alone, or the cosine alone, would rank otherwise.
    assert top_k(likelihood, 5).tolist() != top_k(cosine, 5).tolist()
    # The query's own words decide: another query ranks the documents otherwise.
    assert index.query("anchor hull", k=1, method="likelihood")[0].id != hits[0].id


def test_a_word_only_bm25_knows_still_finds_its_document(tmp_path, corpus_dir):
    import shutil

    from docret.index import Index

    from .conftest import FAST

    corpus = tmp_path / "c"
    shutil.copytree(corpus_dir, corpus)
    with Index.build(corpus, tmp_path / "x.db", **FAST) as idx:
        (corpus / "space" / "quasar.txt").write_text("Quasar\n\n" + "quasar orbit " * 20)
        assert idx.add(corpus).added == ["space/quasar.txt"]
        assert "quasar" not in idx.vectorizer.term_index  # not in the model's vocabulary
        assert idx.query("quasar", k=1)[0].id == "space/quasar.txt"
        assert idx.query("quasar", k=1, method="bm25")[0].id == "space/quasar.txt"
        # one document holds the word: one hit, not nine others at score 0
        for method in ("default", "bm25"):
            hits = idx.query("quasar", k=10, method=method)
            assert [h.id for h in hits] == ["space/quasar.txt"] and hits.matched == 1
        assert idx.unknown_words("quasar zzyzx orbit") == ["zzyzx"]
        idx.remove(["space/quasar.txt"])
        counted = idx.store.db.execute("select count(*) from term_counts").fetchone()[0]
        assert counted == len(idx.ids) == 80
        # no document holds it any more: unknown, as a word never seen
        assert idx.unknown_words("quasar zzyzx orbit") == ["quasar", "zzyzx"]
        for method in ("default", "bm25"):
            with pytest.raises(QueryError, match=r"unknown: quasar\)"):
                idx.query("quasar", k=3, method=method)


def test_an_index_without_lsa_directions_fuses_the_codes_alone(tmp_path):
    from docret.errors import QueryError
    from docret.index import Index
    from docret.indexing import stored_settings
    from docret.rank.calibrate import CODES_ONLY
    from docret.serve.adapter import methods
    from tests.fault_helpers import TINY_OPTIONS

    from .conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    with Index.build(corpus, tmp_path / "x.db", **{**TINY_OPTIONS, "lsa_dims": 0}) as idx:
        assert idx.snapshot.lsa is None and "lsa" not in idx.snapshot.weights
        assert idx.fusion.lsa == 0.0 and set(idx.fusion.mrr) <= set(CODES_ONLY)
        assert stored_settings(idx.store)["lsa_dims"] == 0  # what retrain starts from
        with pytest.raises(QueryError, match="no LSA directions"):
            idx.query("anchor hull", method="lsa")
        assert "lsa" not in methods(idx) and "default" in methods(idx)
        assert len(idx.query("anchor hull", k=3)) == 3


def test_evaluate_measures_the_ranking_that_the_index_gives(index):
    """evaluate's "docret default" row (fitted on the stored texts, in storage order, with
    the index's settings) chooses the same weights and ranks as ``Index.query`` does."""
    from docret.evaluate import Codes, Default, Lexical
    from docret.indexing import stored_settings
    from docret.text import Analyzer, english_stop_words

    docs = index.store.documents(index.ids)
    texts = [docs[i].text for i in index.ids]
    settings = stored_settings(index.store)
    codes = Codes(**settings).fit(texts)
    np.testing.assert_array_equal(codes.docs, normalize_rows(index.snapshot.codes))
    lexical = Lexical(Analyzer(stop_words=english_stop_words())).fit(texts)
    default = Default(codes, lexical, seed=settings["seed"]).fit(texts)
    assert (default.choice.codes, default.choice.lsa) == (index.fusion.codes, index.fusion.lsa)
    queries = ["anchor hull breeze", "orbit rocket", texts[3]]  # the last as long as a document
    for text, scores in zip(queries, default.scores(queries), strict=True):
        assert [h.id for h in index.query(text, k=6)] == [index.ids[i] for i in top_k(scores, 6)]


def test_vectors_read_after_another_writer_still_line_up_with_the_snapshot(tmp_path):
    from docret.index import Index
    from docret.lsa import project
    from tests.fault_helpers import TINY_OPTIONS

    from .conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus", per_topic=5)
    db = tmp_path / "x.db"
    Index.build(corpus, db, **TINY_OPTIONS).close()
    with Index.open(db) as reader, Index.open(db) as writer:
        snap = reader.snapshot  # loaded now; its vectors are read on first use, later
        gone = snap.ids[3]
        _, indptr, indices, weights = reader.store.load_vectors()
        writer.remove([gone])  # another process writes in between
        (corpus / gone).unlink()
        (corpus / "space" / "new.txt").write_text("Orbit\n\n" + "orbit rocket launch " * 5)
        writer.add(corpus)
        assert reader.store.load_vectors()[0] != snap.ids
        lsa = snap.unit_lsa
        assert lsa.shape[0] == len(snap.ids) and not lsa[3].any()  # removed: an empty vector
        rows = [i for i in range(len(snap.ids)) if i != 3]
        dense = np.zeros((len(snap.ids), snap.lsa.shape[1]), dtype=np.float32)
        for row in rows:
            dense[row, indices[indptr[row] : indptr[row + 1]]] = weights[
                indptr[row] : indptr[row + 1]
            ]
        np.testing.assert_allclose(lsa[rows], project(dense, snap.lsa)[rows], atol=1e-6)
        assert snap.tfidf_by_term.n_docs == len(snap.ids)


def test_take_rows_cuts_csr_rows_in_any_order_with_missing_ones_empty():
    from docret.rank.base import take_rows

    indptr = np.array([0, 2, 2, 5])
    ids, vals = np.array([1, 4, 0, 2, 3]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    out, got_ids, got_vals = take_rows(indptr, np.array([2, -1, 0, 1]), ids, vals)
    assert out.tolist() == [0, 3, 3, 5, 5]
    assert got_ids.tolist() == [0, 2, 3, 1, 4] and got_vals.tolist() == [3.0, 4.0, 5.0, 1.0, 2.0]
    empty = take_rows(np.array([0]), np.array([-1, -1]), ids[:0])
    assert empty[0].tolist() == [0, 0, 0] and empty[1].tolist() == []


def test_removing_every_holder_of_a_model_word_makes_it_unknown(tmp_path, built_db):
    import shutil

    from docret.index import Index

    db = tmp_path / "x.db"
    shutil.copy(built_db, db)
    with Index.open(db) as idx:
        analyzer = idx.vectorizer.analyzer
        texts = {i: idx.document(i).text for i in idx.ids}
        holders: dict[str, list[str]] = {}
        for doc_id, text in texts.items():
            for word in set(analyzer.tokens(text)) - analyzer.stop_words:
                holders.setdefault(word, []).append(doc_id)
        # a word of the model's vocabulary held by the fewest documents
        word = min(
            (w for w in holders if analyzer.stem(w) in idx.vectorizer.term_index),
            key=lambda w: (len(holders[w]), w),
        )
        assert len(holders[word]) < len(idx.ids)
        assert idx.query(word, k=100, method="bm25").matched == len(holders[word])
        idx.remove(holders[word])
        assert idx.unknown_words(f"{word} orbit") == [word]
        with pytest.raises(QueryError, match=f"No indexed document holds a word .*unknown: {word}"):
            idx.query(word, method="bm25")
        assert len(idx.query(word, method="tfidf")) == 0  # nothing holds it: nothing listed


@pytest.mark.parametrize(
    "method", ["default", "bm25", "tfidf", "hybrid", "codes", "lsa", "likelihood"]
)
def test_a_ranking_lists_only_the_documents_it_matches(built_db, method):
    from docret.index import Index
    from docret.rank.base import top_k

    with Index.open(built_db) as idx:
        analyzer = idx.vectorizer.analyzer
        with_word = {i for i in idx.ids if "orbit" in analyzer(idx.document(i).text)}
        assert 0 < len(with_word) < len(idx.ids)
        hits = idx.query("orbit", k=1000, method=method)
        assert isinstance(hits, list) and len(hits) == hits.matched
        few = idx.query("orbit", k=3, method=method)
        assert [h.id for h in few] == [h.id for h in hits[:3]] and few.matched == hits.matched
        listed = {h.id for h in hits}
        if method in ("bm25", "tfidf"):  # words alone: the documents with the word
            assert listed == with_word and all(h.score > 0 for h in hits)
        elif method in ("default", "hybrid"):  # every document with the word, and any above
            lowest = min(h.score for h in hits if h.id in with_word)
            assert with_word <= listed and all(h.score >= lowest for h in hits)
            assert hits.matched < len(idx.ids)
        else:  # codes, LSA, likelihood alone: a positive score
            assert all(h.score > 0 for h in hits)
    # the scores themselves are those of the whole ranking (evaluation ranks them whole)
    with Index.open(built_db) as idx:
        snap = idx.snapshot
        scores, _ = snap.lexical.scores(snap.vectorizer.analyzer, "orbit")
        expected = [snap.ids[i] for i in top_k(scores, len(with_word))]
        assert [h.id for h in idx.query("orbit", k=1000, method="bm25")] == expected


def test_the_cli_says_how_many_documents_matched(built_db):
    from click.testing import CliRunner

    from docret.cli import cli

    runner = CliRunner()
    result = runner.invoke(
        cli, ["-d", str(built_db), "query", "orbit", "--method", "bm25", "-k", "1000"]
    )
    assert result.exit_code == 0, result.output
    from docret.index import Index

    with Index.open(built_db) as idx:
        n = idx.query("orbit", k=1000, method="bm25").matched
    assert f"{n} matches" in result.output and "0.000" not in result.output
    result = runner.invoke(cli, ["-d", str(built_db), "query", "orbit", "--method", "bm25"])
    assert f"{n} matches, the first 10 shown (-k for more)" in result.output


# Each pair's measures over given score matrices: what calibrate measures on pseudo-queries.
def mean_reciprocal_ranks(lexical, semantic, answers, grid=None, lsa=None):
    """Mean reciprocal rank of the answers under the fusion at each (codes, LSA) pair."""
    from docret.rank.calibrate import CODES_ONLY, _fusions, reciprocal_ranks

    return {
        pair: float(reciprocal_ranks(fused, answers).mean())
        for pair, fused in _fusions(lexical, semantic, grid or CODES_ONLY, lsa)
    }


def precisions_by_label(lexical, semantic, relevant, own, grid=None, lsa=None, k=None):
    """Each row's precision at ``k`` under the fusion at each pair, its own document left out."""
    from docret.rank.calibrate import CODES_ONLY, TOPICAL_K, _fusions, _precisions

    every = np.arange(lexical.shape[1])
    answers = np.stack([relevant(r, every) for r in range(len(lexical))]).astype(bool)
    return {
        pair: _precisions(fused, [answers], own, k or TOPICAL_K)[0]
        for pair, fused in _fusions(lexical, semantic, grid or CODES_ONLY, lsa)
    }
