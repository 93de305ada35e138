import numpy as np
import pytest

from docret import DatabaseError, QueryError, TrainingError, UnknownDocumentError
from docret.index import Index, snippet
from docret.progress import Progress

from .conftest import FAST, TOPICS, write_corpus


@pytest.fixture()
def index(built_db):
    with Index.open(built_db) as idx:
        yield idx


def _topic(doc_id: str) -> str:
    return doc_id.split("/")[0]


def test_query_ranks_documents_of_the_topic_first(index):
    for topic, words in TOPICS.items():
        hits = index.query(" ".join(words.split()[:3]), k=10)
        assert len(hits) == 10
        assert sum(_topic(h.id) == topic for h in hits) >= 8, (topic, [h.id for h in hits])
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert hits[0].labels == (topic,)
        assert hits[0].title.startswith(topic.title())


def test_codes_find_a_topic_from_words_documents_do_not_share(index):
    # Every document of a topic shares words with others; a query of two topic words still
    # ranks topic documents that contain neither word (the code carries the topic).
    words = TOPICS["sailing"].split()[:2]
    hits = index.query(" ".join(words), k=20, method="codes")
    lacking = [h for h in hits if not any(w in index.document(h.id).text for w in words)]
    assert lacking, "expected some hits without the query's words"
    assert all(_topic(h.id) == "sailing" for h in lacking)


def test_query_many_equals_query(index):
    texts = ["orbit rocket", "guitar melody chord", "flour butter"]
    many = index.query_many(texts, k=5)
    single = [index.query(t, k=5) for t in texts]
    assert [[h.id for h in hits] for hits in many] == [[h.id for h in hits] for hits in single]
    np.testing.assert_allclose(
        [[h.score for h in hits] for hits in many],
        [[h.score for h in hits] for hits in single],
        atol=1e-5,
    )
    with pytest.raises(TypeError):
        index.query_many("orbit", k=5)


def test_similar_leaves_the_document_out_and_stays_on_topic(index):
    hits = index.similar("music/000.txt", k=5)
    assert "music/000.txt" not in [h.id for h in hits]
    assert sum(_topic(h.id) == "music" for h in hits) >= 4
    with pytest.raises(UnknownDocumentError, match="nope"):
        index.similar("nope")


def test_compare_returns_both_rankings(index):
    result = index.compare("anchor hull", k=5, method="codes", baseline="tfidf")
    assert len(result.hits) == len(result.baseline_hits) == 5
    assert result.both == {h.id for h in result.hits} & {h.id for h in result.baseline_hits}
    # tf-idf cosine can only find documents with a query word
    for h in result.baseline_hits:
        text = index.document(h.id).text
        assert "anchor" in text or "hull" in text
    assert result.baseline_hits[0].score > 0
    assert (result.method, index.compare("anchor").baseline) == ("codes", "bm25")


def test_query_errors(index):
    with pytest.raises(QueryError, match="empty"):
        index.query("   ")
    with pytest.raises(QueryError, match="unknown: zebra, quokka"):
        index.query("zebra quokka")
    with pytest.raises(QueryError, match="only stop words"):
        index.query("the and of")
    with pytest.raises(QueryError, match="no words"):
        index.query("1234 !!")


def test_info(index):
    info = index.info()
    assert info["documents"] == 4 * 20
    assert info["labels"] == {t: 20 for t in sorted(TOPICS)}
    assert info["model"]["code_size"] == FAST["code_size"]
    assert info["model"]["layers"] == list(FAST["hidden"])
    assert info["model"]["epochs_trained"] >= 1
    assert info["model"]["pretrained"] is True  # the default
    assert info["vocabulary"] > 50


def test_info_says_where_a_query_counts_as_long(index):
    from docret.rank.default import SHORT_QUERY_TERMS, query_weights

    ranking = index.info()["ranking"]
    assert ranking["short_terms"] == SHORT_QUERY_TERMS
    full = ranking["long_from_terms"]
    assert full >= 2 * SHORT_QUERY_TERMS
    # query_weights reaches the long pair there, and not a term before
    short, long = (0.2, 0.3), (0.7, 0.1)
    terms = index.fusion.long_terms
    assert query_weights(short, long, full, terms) == pytest.approx(long)
    assert query_weights(short, long, full - 1, terms) != pytest.approx(long)


def test_stored_codes_equal_numpy_encoding_of_the_texts(index):
    ids = index.ids[:10]
    texts = [index.document(i).text for i in ids]
    stored = index.snapshot.unit_codes[: len(ids)]
    fresh = index.encode(texts)
    fresh /= np.linalg.norm(fresh, axis=1, keepdims=True)
    np.testing.assert_allclose(fresh, stored, atol=1e-5)


def test_rebuild_same_seed_gives_identical_codes(tmp_path, corpus_dir, built_db):
    with (
        Index.build(corpus_dir, tmp_path / "again.db", **FAST) as again,
        Index.open(built_db) as first,
    ):
        assert again.ids == first.ids
        assert np.array_equal(again.snapshot.codes, first.snapshot.codes)


def test_interrupted_build_leaves_the_old_index(tmp_path, monkeypatch):
    db = tmp_path / "keep.db"
    small = write_corpus(tmp_path / "c1", per_topic=4)
    with Index.build(small, db, **{**FAST, "epochs": 2}) as old:
        before = old.query("orbit rocket", k=3)

    from docret import train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Index.build(write_corpus(tmp_path / "c2", per_topic=6, seed=3), db, **FAST)
    with Index.open(db) as idx:
        assert idx.info()["documents"] == 16
        assert idx.query("orbit rocket", k=3) == before


def test_build_errors(tmp_path):
    with pytest.raises(TrainingError, match="at least 10"):
        Index.build(write_corpus(tmp_path / "tiny", per_topic=1), tmp_path / "t.db", **FAST)
    with pytest.raises(DatabaseError, match="not found"):
        Index.open(tmp_path / "none.db")


def test_snippet_skips_title_and_cuts_at_a_word():
    text = "Title line\n\n" + "word " * 100
    s = snippet(text, length=30)
    assert s.startswith("word word") and s.endswith("…") and len(s) <= 31
    assert snippet("Only a title") == "Only a title"


def test_hybrid_adds_tfidf_cosine_to_code_cosine(index):
    from docret.rank.base import normalize_rows
    from docret.rank.codes import HYBRID_WEIGHT

    text = "guitar melody orbit"
    hits = index.query(text, k=8, hybrid=True)
    vec = index.vectorize(text)
    code = normalize_rows(index.encode([text]))[0]
    snap = index.snapshot
    expected = snap.unit_codes @ code + HYBRID_WEIGHT * snap.tfidf_by_term.scores(
        vec.indices, vec.values
    )
    best = np.lexsort((np.arange(len(expected)), -expected))[:8]
    assert [h.id for h in hits] == [index.ids[i] for i in best]
    assert [h.score for h in hits] == pytest.approx(expected[best].tolist(), abs=1e-5)
    # the lexical part changes the order: without it the codes alone rank differently
    assert [h.id for h in index.query(text, k=8)] != [h.id for h in hits]
    assert index.query_many([text], k=8, hybrid=True) == [hits]


@pytest.fixture(scope="module")
def binary_index(tmp_path_factory, corpus_dir):
    db = tmp_path_factory.mktemp("bin") / "bin.db"
    with Index.build(corpus_dir, db, **{**FAST, "code_size": 16, "binary": True}) as idx:
        yield idx


def test_binary_codes_rank_by_hamming(binary_index):
    from docret.rank.codes import hamming_distances, pack_bits

    assert binary_index.bits.shape == (80, 1)
    assert binary_index.info()["model"]["binary"] is True
    # Not fused, but BM25 (`--method bm25`) gets its parameters from the pseudo-queries too.
    from docret.rank.calibrate import BM25_GRID

    fusion = binary_index.fusion
    assert (fusion.codes, fusion.lsa, fusion.mrr) == (0.0, 0.0, {}) and fusion.queries > 0
    assert set(fusion.bm25_mrr) == set(BM25_GRID)
    # logistic code units pushed to 0/1 by the training noise
    raw = binary_index.snapshot.codes
    assert np.mean((raw < 0.1) | (raw > 0.9)) > 0.8
    for topic, words in TOPICS.items():
        hits = binary_index.query(" ".join(words.split()[:4]), k=10)
        assert sum(_topic(h.id) == topic for h in hits) >= 7, (topic, [h.id for h in hits])
        # scores are the share of matching bits, best first
        q = pack_bits(binary_index.encode([" ".join(words.split()[:4])]))[0]
        dist = hamming_distances(binary_index.bits, q)
        for h in hits:
            assert h.score == pytest.approx(1 - dist[binary_index.ids.index(h.id)] / 16)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_binary_rerank_orders_hamming_candidates_by_logits_and_tfidf(binary_index):
    from docret.rank.base import logits, normalize_rows
    from docret.rank.codes import hamming_distances, pack_bits, smallest_k

    text = "guitar melody"
    plain = binary_index.query(text, k=30)
    reranked = binary_index.query(text, k=5, rerank=30)
    assert {h.id for h in reranked} <= {h.id for h in plain}
    # brute force: logit cosine plus tf-idf cosine over the 30 nearest by Hamming distance
    code = binary_index.encode([text])[0]
    candidates = smallest_k(hamming_distances(binary_index.bits, pack_bits(code[None])[0]), 30)
    q = normalize_rows(logits(code[None]))[0]
    vec = binary_index.vectorize(text)
    tfidf = binary_index.snapshot.tfidf_by_term.scores(vec.indices, vec.values)
    expected = {
        binary_index.ids[i]: float(
            normalize_rows(logits(binary_index.snapshot.codes[i : i + 1]))[0] @ q + tfidf[i]
        )
        for i in candidates
    }
    best = sorted(expected, key=lambda doc_id: -expected[doc_id])[:5]
    assert [h.id for h in reranked] == best
    assert [h.score for h in reranked] == pytest.approx([expected[d] for d in best], abs=1e-5)
    hits = binary_index.similar("music/000.txt", k=5)
    assert "music/000.txt" not in [h.id for h in hits]
    with pytest.raises(QueryError, match="--rerank"):
        binary_index.query(text, hybrid=True)


def test_explain_returns_vocabulary_words_of_the_topic_by_weight(index):
    words = index.explain("orbit rocket launch", k=10)
    assert len(words) == 10
    weights = [w for _, w in words]
    assert weights == sorted(weights, reverse=True) and all(0 < w < 1 for w in weights)
    vocab = set(index.vectorizer.terms)
    assert all(index.vectorizer.analyzer.stem(word) in vocab for word, _ in words)
    space = set(TOPICS["space"].split())
    assert sum(word in space for word, _ in words[:5]) >= 4, words


def test_words_of_a_document_and_shared_words(index):
    words = index.words("cooking/002.txt", k=8)
    assert sum(w in TOPICS["cooking"].split() for w, _ in words[:5]) >= 4, words
    shared = index.shared_words("flour butter", "cooking/002.txt", k=5)
    assert len(shared) == 5 and all(w in TOPICS["cooking"].split() for w, _ in shared[:3])
    with pytest.raises(UnknownDocumentError):
        index.words("nope")


def test_map_draws_one_point_per_document(index, tmp_path):
    from PIL import Image

    from docret import mapping

    out = tmp_path / "map.png"
    xy = index.map(out)
    assert xy.shape == (80, 2) and np.isfinite(xy).all()
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.size == (
            int(mapping.FIGSIZE[0] * mapping.DPI),
            int(mapping.FIGSIZE[1] * mapping.DPI),
        )
    # the four topics form four separate groups: each point's nearest neighbour shares its topic
    topics = np.array([_topic(i) for i in index.ids])
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    assert (topics[d.argmin(1)] == topics).mean() > 0.9
    both = tmp_path / "both.png"
    index.map(both, compare_lsa=True)
    with Image.open(both) as im:
        assert im.size[0] == 2 * int(mapping.FIGSIZE[0] * mapping.DPI)


def test_pca_2d_keeps_the_main_directions():
    from docret.mapping import pca_2d

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)) * np.array([10, 5, 0.1, 0.1, 0.1])
    xy = pca_2d(x)
    assert np.corrcoef(np.abs(xy[:, 0]), np.abs(x[:, 0] - x[:, 0].mean()))[0, 1] > 0.99


def test_build_reports_progress_of_each_counted_step(tmp_path):
    corpus = write_corpus(tmp_path / "c", per_topic=5)
    seen: dict[str, list[tuple[int, int | None]]] = {}
    stages, epochs = [], []

    class Recorder(Progress):
        def stage(self, message):
            stages.append(message)

        def step(self, stage, done, total):
            seen.setdefault(stage, []).append((done, total))

        def epoch(self, stats, total):
            epochs.append((stats.epoch, total))

    Index.build(corpus, tmp_path / "p.db", progress=Recorder(), **{**FAST, "epochs": 2}).close()
    assert set(seen) == {"Reading", "Vocabulary", "Encoding", "Writing"}
    assert epochs == [(1, 2), (2, 2)]
    assert stages[0].startswith("Reading") and stages[-1].startswith("Writing")
    for stage, steps in seen.items():
        assert steps[-1] == (20, 20), stage
