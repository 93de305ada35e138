"""Side-by-side evaluation of docret against bag-of-words baselines on a user's corpus.

Two protocols:

- **labels**: a labelled corpus split into train and test (a ``.jsonl[.gz]`` whose lines carry
  ``split``, or a folder with ``train/`` and ``test/`` in ``<label>/<file>`` layout). Every test
  document queries the train documents; relevant means sharing a label. P@1, P@10, P@100 and
  MAP@100 (trec_eval's ``map_cut_100``: divided by all the query's relevant documents).
- **qrels**: an IR test collection folder with ``docs.jsonl[.gz]``, ``queries.jsonl`` and
  ``qrels.tsv`` (query, document, graded relevance; higher is better). MAP over the first 1,000
  ranks (trec_eval's ``map``), nDCG@10 (``ndcg_cut_10``, linear gains) and P@10.

Metrics follow trec_eval (:mod:`docret.metrics`): queries with no relevant document are left
out (:attr:`Collection.left_out` says how many), P@k divides by k.

Methods, by name: docret's default ranking (BM25 fused with the codes and LSA,
:class:`Default`), the learned codes alone (by cosine, :class:`Codes`, and by the decoder's
likelihood of the query's words, :class:`Likelihood`), the hybrid that adds tf-idf cosine to
code cosine (:class:`Hybrid`); baselines tf-idf cosine over the full vocabulary, BM25
(bm25s) and LSA (truncated SVD of the tf-idf matrix) with as many dimensions as the code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from docret.corpus import Document, read_documents
from docret.defaults import DEFAULTS
from docret.errors import CorpusError
from docret.lexicon import LexicalIndex, query_terms
from docret.metrics import average_precision, judged, ndcg_at_k, precision_at_k, top_rows
from docret.rank.base import normalize_rows
from docret.rank.calibrate import Draw, Spaces, Topical, calibrate
from docret.rank.codes import HYBRID_WEIGHT
from docret.rank.default import fuse, weights
from docret.rank.lexical import Bm25 as Bm25Scores
from docret.rank.likelihood import likelihood_ranking, query_likelihoods
from docret.text import Analyzer, english_stop_words

PLOT_DEPTH = 1000  # the paper's figure runs to 1,000 retrieved documents


@dataclass
class Collection:
    """Documents to index, queries to run, and what counts as relevant."""

    name: str
    protocol: str  # "labels" or "qrels"
    documents: list[Document]
    queries: list[Document]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # protocol "qrels"
    left_out: int = 0  # queries without any relevant document, left out as trec_eval does


def load_collection(path: str | Path) -> Collection:
    """Recognise and read a labelled corpus or an IR test collection at ``path``."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(f"Path does not exist: {path}")
    if p.is_dir() and (p / "qrels.tsv").exists():
        return _load_qrels_collection(p)
    if p.is_dir() and (p / "train").is_dir() and (p / "test").is_dir():
        train = read_documents(p / "train", ["*"]).documents
        test = read_documents(p / "test", ["*"]).documents
        return _labelled(p.name, train, test)
    docs = read_documents(p).documents
    name = p.parent.name if p.name.startswith("docs.") else p.name
    train = [d for d in docs if d.split == "train"]
    test = [d for d in docs if d.split == "test"]
    if not train or not test:
        raise CorpusError(
            f"{path} is not an evaluation corpus: expected documents with split train and test, "
            "a folder with train/ and test/, or a folder with docs.jsonl, queries.jsonl and "
            "qrels.tsv"
        )
    return _labelled(name, train, test)


def _labelled(name: str, train: list[Document], test: list[Document]) -> Collection:
    if not any(d.labels for d in train) or not any(d.labels for d in test):
        raise CorpusError(f"{name}: the train and test documents need labels")
    known = {label for d in train for label in d.labels}
    queries = [d for d in test if known.intersection(d.labels)]
    if not queries:
        raise CorpusError(f"{name}: no test document shares a label with a train document")
    return Collection(name, "labels", train, queries, left_out=len(test) - len(queries))


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Relevance judgements by query and document from ``path``, one per line in either form
    trec_eval reads: ``query document relevance`` or TREC's ``query iteration document
    relevance`` (the iteration, usually 0, is ignored). Fields are separated by tabs, or by
    spaces on lines without a tab; any other line is a CorpusError naming its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CorpusError(f"Cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    qrels: dict[str, dict[str, int]] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [f.strip() for f in line.split("\t")] if "\t" in line else line.split()
        relevance = _whole(parts[-1]) if len(parts) in (3, 4) else None
        if relevance is None or not all(parts):
            raise CorpusError(
                f"{path}:{lineno}: expected query, document, relevance (or TREC's query, "
                "iteration, document, relevance) with a whole-number relevance, got "
                f"{len(parts)} field(s)"
                + (f" ending in {parts[-1][:40]!r}" if len(parts) in (3, 4) else "")
            )
        qrels.setdefault(parts[0], {})[parts[-2]] = relevance
    return qrels


def _whole(text: str) -> int | None:
    """``text`` as a whole number (``2``, ``-1``, ``1.0``), else None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _load_qrels_collection(p: Path) -> Collection:
    docs_file = next((p / n for n in ("docs.jsonl.gz", "docs.jsonl") if (p / n).exists()), None)
    if docs_file is None or not (p / "queries.jsonl").exists():
        raise CorpusError(f"{p}: a test collection needs docs.jsonl[.gz] and queries.jsonl")
    documents = read_documents(docs_file).documents
    queries = read_documents(p / "queries.jsonl").documents
    qrels = read_qrels(p / "qrels.tsv")
    judged = [q for q in queries if any(r > 0 for r in qrels.get(q.id, {}).values())]
    if not judged:
        raise CorpusError(f"{p}: no query has a relevant document in qrels.tsv")
    return Collection(p.name, "qrels", documents, judged, qrels, len(queries) - len(judged))


# -- methods ------------------------------------------------------------------------------
class Method:
    """A retrieval method: ``fit`` on document texts, then ``search`` query texts.

    ``parts`` are methods whose fitted state this one reuses: they are fitted first, and their
    fit time is this method's fit time.
    """

    name = "method"
    parts: tuple[Method, ...] = ()

    def fit(self, texts: Sequence[str]) -> Method:
        raise NotImplementedError

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """(Q, N) similarity of each query to every document."""
        raise NotImplementedError

    def search(self, texts: Sequence[str], depth: int, chunk: int = 256) -> np.ndarray:
        """Indices (Q, depth) of the best documents for each query, best first."""
        out = []
        for s in range(0, len(texts), chunk):
            scores = self.scores(texts[s : s + chunk])
            out.append(top_rows(scores, depth))
        return np.concatenate(out)


class Tfidf(Method):
    """Cosine of sublinear tf-idf vectors over the full vocabulary (min_df=2, max_df=0.5)."""

    name = "tf-idf cosine"

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def fit(self, texts: Sequence[str]) -> Tfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(
            analyzer=self.analyzer, min_df=2, max_df=0.5, sublinear_tf=True, dtype=np.float32
        )
        self.matrix = self.vectorizer.fit_transform(texts).tocsr()
        return self

    def transform(self, texts: Sequence[str]):
        return self.vectorizer.transform(texts)

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return (self.transform(texts) @ self.matrix.T).toarray()


class Lsa(Method):
    """Truncated SVD of the tf-idf matrix, ranked by cosine in the reduced space."""

    def __init__(self, tfidf: Tfidf, dims: int, seed: int = 0) -> None:
        self.tfidf, self.dims, self.seed = tfidf, dims, seed
        self.name = f"LSA-{dims}"
        self.parts = (tfidf,)

    def fit(self, texts: Sequence[str]) -> Lsa:
        from sklearn.decomposition import TruncatedSVD

        self.svd = TruncatedSVD(self.dims, random_state=self.seed).fit(self.tfidf.matrix)
        self.docs = normalize_rows(self.svd.transform(self.tfidf.matrix))
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return normalize_rows(self.svd.transform(self.tfidf.transform(texts))) @ self.docs.T


class Bm25(Method):
    """Okapi BM25 by bm25s (Lucene idf, k1=1.5, b=0.75) over the same analyzed tokens: the
    reference baseline, independent of docret's own BM25 (:class:`Lexical`)."""

    name = "BM25"

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def fit(self, texts: Sequence[str]) -> Bm25:
        import bm25s

        self.n = len(texts)
        self.retriever = bm25s.BM25()
        self.retriever.index([self.analyzer(t) for t in texts], show_progress=False)
        return self

    def search(self, texts: Sequence[str], depth: int, chunk: int = 256) -> np.ndarray:
        tokens = [self.analyzer(t) or ["\x00"] for t in texts]
        docs, _ = self.retriever.retrieve(
            tokens, k=min(depth, self.n), show_progress=False, n_threads=1
        )
        return np.asarray(docs, dtype=np.int64)


class Lexical(Method):
    """docret's own BM25 (:class:`docret.rank.lexical.Bm25`) over every stem of the documents, as
    an index stores it: the lexical half of the default ranking."""

    name = "docret BM25"

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def fit(self, texts: Sequence[str]) -> Lexical:
        self.index = LexicalIndex.from_texts(texts, self.analyzer)
        self.lexicon = self.index.lexicon
        return self

    @property
    def bm25(self) -> Bm25Scores:
        """BM25 at the index's parameters (the default ranking sets them: ``index.tuned``)."""
        return self.index.bm25

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack(
            [self.bm25.scores(*query_terms(self.analyzer, t, self.lexicon)) for t in texts]
        )

    def lengths(self, texts: Sequence[str]) -> list[float]:
        """How many of each text's terms are in the lexicon."""
        return [float(query_terms(self.analyzer, t, self.lexicon)[1].sum()) for t in texts]


class Codes(Method):
    """docret: cosine of the autoencoder's codes."""

    name = "docret codes"

    def __init__(self, **encoder_options: Any) -> None:
        self.options = encoder_options
        self.tfidf: Any = None  # the documents' tf-idf matrix, once fitted

    def fit(self, texts: Sequence[str]) -> Codes:
        from docret.encoder import Encoder

        self.encoder = Encoder(**self.options)
        counts = self.encoder.fit_vocabulary(texts)
        self.encoder.fit_model(counts)
        self.docs = normalize_rows(self.encoder.encode_counts(counts))
        self.tfidf = self.encoder.tfidf(counts)  # for the default ranking's LSA vectors
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return normalize_rows(self.encoder.transform(texts)) @ self.docs.T


class Likelihood(Method):
    """docret likelihood: the decoder's likelihood of the query's words given each document's
    code (:func:`docret.rank.likelihood.query_likelihood`, with the numpy decoder an index uses) and
    some of the code cosine (:func:`docret.rank.likelihood.likelihood_ranking`)."""

    name = "docret likelihood"

    def __init__(self, codes: Codes) -> None:
        self.codes = codes
        self.parts = (codes,)

    def fit(self, texts: Sequence[str]) -> Likelihood:
        from docret.inference import NumpyDecoder

        encoder = self.codes.encoder
        self.decoder = NumpyDecoder(encoder.config_.to_dict(), encoder.export()["weights"])
        # The decoder takes the codes as the encoder gave them, not the unit ones the cosine
        # uses; a cached Codes may not carry the documents' tf-idf matrix.
        tfidf = self.codes.tfidf
        codes = encoder.transform(texts) if tfidf is None else encoder.encode_tfidf(tfidf)
        self.hidden, self.log_norms = self.decoder.likelihood_parts(codes)
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        encoder = self.codes.encoder
        tfidf = encoder.tfidf(encoder.vectorize(texts))
        cosine = normalize_rows(encoder.encode_tfidf(tfidf)) @ self.codes.docs.T
        likelihood = query_likelihoods(self.hidden, self.log_norms, self.decoder.output, tfidf)
        return likelihood_ranking(likelihood, cosine)


class Default(Method):
    """docret default: BM25 fused with the code cosine and the LSA cosine, twice with
    feedback (:func:`docret.rank.default.fuse_with_feedback`), at the weights the corpus'
    pseudo-queries choose (:func:`docret.rank.calibrate.calibrate`), as ``docret index`` chooses and
    ``docret query`` ranks."""

    name = "docret default"

    def __init__(
        self,
        codes: Codes,
        lexical: Lexical,
        seed: int = 0,
        labels: Sequence[Sequence[str]] | None = None,
    ) -> None:
        self.codes, self.lexical, self.seed, self.labels = codes, lexical, seed, labels
        self.parts = (codes, lexical)

    def fit(self, texts: Sequence[str]) -> Default:
        encoder = self.codes.encoder
        self.with_lsa = encoder.lsa_.shape[0] > 0
        # A cached Codes may not carry the documents' tf-idf matrix: vectorise them then.
        tfidf = self.codes.tfidf
        if tfidf is None:
            tfidf = encoder.tfidf(encoder.vectorize(texts))
        self.lsa_docs = encoder.transform_lsa(texts, tfidf) if self.with_lsa else None
        embed = encoder.transform_both if self.with_lsa else lambda t: [encoder.transform(t)]
        self.choice = calibrate(
            texts,
            self.lexical.analyzer,
            self.lexical.index,
            Spaces(self.codes.docs, embed, self.lsa_docs),
            Draw(self.seed),
            Topical(labels=self.labels, tfidf=tfidf),
        )
        # As an index does: its BM25 ranks at the parameters chosen with the weights.
        self.lexical.index = self.lexical.index.tuned(self.choice.k1, self.choice.b)
        return self

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        lexical = self.lexical.scores(texts)
        encoder = self.codes.encoder
        counts = encoder.vectorize(texts)  # once, for the codes, LSA and the known words
        codes = encoder.encode_counts(counts)
        lsa = encoder.transform_lsa(texts, encoder.tfidf(counts)) if self.with_lsa else None
        known = np.diff(counts.indptr) > 0  # a word the model knows
        rows = []
        for i, n in enumerate(self.lexical.lengths(texts)):
            pair = weights(self.choice, n, bool(known[i]), self.with_lsa)
            lsa_i = None if lsa is None else (self.lsa_docs, lsa[i])
            rows.append(fuse(lexical[i], pair, (self.codes.docs, codes[i]), lsa_i))
        return np.stack(rows)


class Hybrid(Method):
    """docret hybrid: code cosine plus ``weight`` times tf-idf cosine.

    The code finds documents on the query's topic; the lexical term lifts, within that topic,
    the documents that also share the query's words. Both are cosines in [−1, 1], so a fixed
    weight needs no per-corpus calibration.
    """

    name = "docret hybrid"

    def __init__(self, codes: Codes, tfidf: Tfidf, weight: float = HYBRID_WEIGHT) -> None:
        self.codes, self.tfidf, self.weight = codes, tfidf, weight
        self.parts = (codes, tfidf)

    def fit(self, texts: Sequence[str]) -> Hybrid:
        return self  # reuses the fitted parts

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return self.codes.scores(texts) + self.weight * self.tfidf.scores(texts)


# -- running ------------------------------------------------------------------------------
@dataclass
class MethodResult:
    """Metrics and timings of one method."""

    method: str
    metrics: dict[str, float]
    fit_seconds: float
    query_ms: float
    precision_curve: list[tuple[int, float]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # say, the default's fusion weights

    def to_dict(self) -> dict[str, Any]:
        """The ``methods`` entry of ``docret evaluate --json``."""
        return {
            "method": self.method,
            **{k: round(v, 4) for k, v in self.metrics.items()},
            "fit_seconds": round(self.fit_seconds, 2),
            "query_ms": round(self.query_ms, 3),
            **self.details,
        }


def evaluate(
    collection: Collection,
    *,
    curve: bool = False,
    extra_lsa: Sequence[int] = (),
    extra_methods: Sequence[Method] = (),
    on_method: Callable[[str], None] | None = None,
    codes: Codes | None = None,
    **encoder_options: Any,
) -> list[MethodResult]:
    """Fit every method on the collection's documents, run its queries, score the rankings.

    Rows, in order: docret's default ranking (the headline), its codes alone (by cosine, then
    by the decoder's likelihood of the query's words), the hybrid with tf-idf, then the
    baselines tf-idf, BM25 and LSA with as many dimensions as the code (and each size in
    ``extra_lsa``); ``extra_methods`` (say, a pretrained embedding model in a benchmark) run
    last. ``codes`` replaces the learned-code method (a benchmark may pass one that reuses a
    trained encoder); by default it is ``Codes(**encoder_options)``.
    """
    docs = collection.documents
    texts = [d.text for d in docs]
    queries = [d.text for d in collection.queries]
    analyzer = Analyzer(stop_words=english_stop_words())
    code_size = int(encoder_options.get("code_size", DEFAULTS.code_size))
    tfidf = Tfidf(analyzer)
    codes = codes or Codes(**encoder_options)
    lexical = Lexical(analyzer)
    methods: list[Method] = [
        # The indexed documents' labels, as an index of them would have: never the queries'.
        Default(codes, lexical, int(encoder_options.get("seed", 0)), [d.labels for d in docs]),
        codes,
        Likelihood(codes),
        Hybrid(codes, tfidf),
        tfidf,
        Bm25(analyzer),
        *(Lsa(tfidf, d) for d in [code_size, *(d for d in extra_lsa if d != code_size)]),
        *extra_methods,
    ]
    depth = PLOT_DEPTH if curve or collection.protocol == "qrels" else 100
    depth = min(depth, len(texts))
    judge = (
        _label_judge(collection) if collection.protocol == "labels" else _qrels_judge(collection)
    )
    fit_seconds: dict[int, float] = {}

    def fit(method: Method) -> None:
        if id(method) in fit_seconds:
            return
        for part in method.parts:
            fit(part)
        if on_method:
            on_method(method.name)
        start = time.perf_counter()
        method.fit(texts)
        fit_seconds[id(method)] = (
            time.perf_counter() - start + sum(fit_seconds[id(p)] for p in method.parts)
        )

    results = []
    for method in methods:
        fit(method)
        start = time.perf_counter()
        ranking = method.search(queries, depth)
        query_ms = (time.perf_counter() - start) * 1000 / max(len(queries), 1)
        metrics, curve_points = judge(ranking, curve)
        details = {"fusion": method.choice.to_dict()} if isinstance(method, Default) else {}
        results.append(
            MethodResult(
                method.name, metrics, fit_seconds[id(method)], query_ms, curve_points, details
            )
        )
    return results


def _curve_points(rel: np.ndarray) -> list[tuple[int, float]]:
    ns = np.unique(np.round(np.logspace(0, np.log10(rel.shape[1]), 40)).astype(int))
    cum = np.cumsum(rel > 0, axis=1)
    return [(int(n), float((cum[:, n - 1] / n).mean())) for n in ns]


def _label_judge(c: Collection):
    doc_labels = [set(d.labels) for d in c.documents]
    query_labels = [set(q.labels) for q in c.queries]
    # AP divides by every relevant document, found or not; count them once per label set.
    counts: dict[frozenset[str], int] = {}
    for ql in map(frozenset, query_labels):
        if ql not in counts:
            counts[ql] = sum(1 for labels in doc_labels if labels & ql)
    n_relevant = np.array([counts[frozenset(ql)] for ql in query_labels])

    def judge(ranking: np.ndarray, curve: bool):
        rel = np.array(
            [
                [bool(doc_labels[j] & ql) for j in row]
                for row, ql in zip(ranking, query_labels, strict=True)
            ]
        )
        # Left out by the loader already; kept as trec_eval's rule in one place.
        rel, n_rel = rel[judged(n_relevant)], n_relevant[judged(n_relevant)]
        metrics = {
            "P@1": precision_at_k(rel, 1).mean(),
            "P@10": precision_at_k(rel, 10).mean(),
            "P@100": precision_at_k(rel, 100).mean(),
            "MAP@100": average_precision(rel, n_rel, 100).mean(),
        }
        return metrics, (_curve_points(rel) if curve else [])

    return judge


def _qrels_judge(c: Collection):
    ids = [d.id for d in c.documents]
    n_relevant = np.array([sum(r > 0 for r in c.qrels[q.id].values()) for q in c.queries])
    ideal = [np.array([r for r in c.qrels[q.id].values() if r > 0]) for q in c.queries]

    def judge(ranking: np.ndarray, curve: bool):
        gains = np.array(
            [
                [c.qrels[q.id].get(ids[j], 0) for j in row]
                for row, q in zip(ranking, c.queries, strict=True)
            ]
        )
        metrics = {
            "MAP": average_precision(gains, n_relevant).mean(),
            "nDCG@10": ndcg_at_k(gains, ideal, 10).mean(),
            "P@10": precision_at_k(gains, 10).mean(),
        }
        return metrics, (_curve_points(gains) if curve else [])

    return judge


def plot(results: Sequence[MethodResult], path: str | Path, title: str) -> None:
    """Precision against number of documents retrieved, log axis, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for r in results:
        xs, ys = zip(*r.precision_curve, strict=True)
        ax.plot(xs, ys, marker=".", label=r.method)
    ax.set_xscale("log")
    ax.set_xlabel("number of documents retrieved")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_collection(collection: Collection, results: Sequence[MethodResult], path: str) -> None:
    """:func:`plot` of ``results`` (run with ``curve=True``) titled by the collection's name."""
    plot(results, path, f"{collection.name}: precision vs documents retrieved")


def best_scores(results: Sequence[MethodResult]) -> dict[str, float]:
    """The best value of each metric among ``results``, by metric name (a table marks it)."""
    return {m: max(r.metrics[m] for r in results) for m in results[0].metrics}


def summary(collection: Collection, results: Sequence[MethodResult]) -> dict[str, Any]:
    """What ``docret evaluate --json`` prints: the collection, its protocol ("label" or
    "qrels"), its counts, and each method's :meth:`MethodResult.to_dict`."""
    return {
        "corpus": collection.name,
        "protocol": "label" if collection.protocol == "labels" else "qrels",
        "documents": len(collection.documents),
        "queries": len(collection.queries),
        "queries_left_out": collection.left_out,
        "methods": [r.to_dict() for r in results],
    }
