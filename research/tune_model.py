"""Choose training settings on validation data only: slices of train and pseudo-queries.

Question: which training settings (encoder widths, batch size, learning rate, epochs, noise,
negatives) give the best codes, judged without a test query? The training settings in
bench/RESULTS.md were chosen with it. It measures the codes' cosine ranking on the validation
protocols below, for one set of encoder options per ``worker``, with the seconds the fit took;
tf-idf, BM25 and LSA on the same data (``baselines``); or the seconds of each stage of
indexing 20 Newsgroups train (``fit``). The other research scripts take their validation
collections from here (:func:`load`, :func:`ng20`).

Usage (from the repository root, with ../shared/corpora beside it, or --corpora DIR):

    python -m research.tune_model worker '{"name": "x", "options": {...}}' --out DIR
    python -m research.tune_model baselines --out DIR
    python -m research.tune_model fit '{"batch_size": 256}' --device cpu   # stage timings, 20NG

Protocols (nothing here reads a test split or a collection's test queries):

- ``ng20``: 20 Newsgroups train only. The first 400 documents of each group are indexed, the
  next 150 of each group query them: P@10, P@50, P@100 with the whole document as the query
  (relevant = same group), and ``subj@10``, P@10 with only the query document's Subject line
  (a short typed query).
- ``cranfield``, ``npl``: pseudo-queries. Each document's title (Cranfield: up to the first
  " ."; NPL: up to the first double space) is cut off and becomes a query whose only relevant
  document is the rest of it; the bodies are indexed. MRR (= MAP with one relevant document)
  and R@10.

Codes are compared with tf-idf cosine, BM25 and LSA at the same D on the same data
(``baselines``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from bench.quality import SHARED, subject

CORPORA = SHARED  # ../shared/corpora beside the checkout


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file, gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def ng20(corpora: Path, per_group: int = 400, n_queries: int = 150) -> dict:
    """The ``ng20`` protocol: 20 Newsgroups train's first ``per_group`` posts of each group to
    index, the next ``n_queries`` of each to query them (whole and by subject line)."""
    docs = [d for d in read_jsonl(corpora / "20newsgroups" / "docs.jsonl.gz")]
    by_group: dict[str, list[dict]] = {}
    for d in docs:
        if d["split"] == "train":
            by_group.setdefault(d["labels"][0], []).append(d)
    index, queries = [], []
    for group in sorted(by_group):
        index += by_group[group][:per_group]
        queries += by_group[group][per_group : per_group + n_queries]
    return {
        "docs": [d["text"] for d in index],
        "doc_labels": np.array([d["labels"][0] for d in index]),
        "queries": [d["text"] for d in queries],
        "subjects": [subject(d["text"]) for d in queries],
        "query_labels": np.array([d["labels"][0] for d in queries]),
    }


def pseudo(corpora: Path, name: str) -> dict:
    """The title protocol of Cranfield or NPL: the bodies to index, the titles cut off them to
    query, and the index of each title's own body (``own``)."""
    docs = read_jsonl(corpora / name / "docs.jsonl.gz")
    sep = re.compile(r"\s\.\s" if name == "cranfield" else r"\s\s")
    bodies, titles, own = [], [], []
    for d in docs:
        text = d["text"].strip()
        m = sep.search(text)
        if m and len(text[: m.start()].split()) >= 2 and len(text[m.end() :].split()) >= 5:
            titles.append(text[: m.start()])
            own.append(len(bodies))
            bodies.append(text[m.end() :])
        else:
            bodies.append(text)
    return {"docs": bodies, "queries": titles, "own": np.array(own)}


def normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def labelled_metrics(scores: np.ndarray, doc_labels, query_labels, prefix="") -> dict:
    """P@10, P@50 and P@100 of (Q, N) ``scores``, relevant = the query's label."""
    top = np.argsort(-scores, axis=1)[:, :100]
    rel = doc_labels[top] == query_labels[:, None]
    return {f"{prefix}P@{k}": float(rel[:, :k].mean()) for k in (10, 50, 100)}


def pseudo_metrics(scores: np.ndarray, own: np.ndarray) -> dict:
    """MRR and R@10 of (Q, N) ``scores`` where each query's only answer is ``own``'s."""
    mine = scores[np.arange(len(own)), own]
    rank = (scores > mine[:, None]).sum(1) + 1
    return {"MRR": float((1.0 / rank).mean()), "R@10": float((rank <= 10).mean())}


def evaluate_scores(data: dict, score) -> dict:
    """``score(query_texts)`` -> (Q, N) similarities; the protocol's metrics."""
    if "own" in data:
        return pseudo_metrics(score(data["queries"]), data["own"])
    out = labelled_metrics(score(data["queries"]), data["doc_labels"], data["query_labels"])
    subj = labelled_metrics(score(data["subjects"]), data["doc_labels"], data["query_labels"])
    out["subj@10"] = subj["P@10"]
    return out


def load(corpora: Path, name: str) -> dict:
    """One validation collection: ``ng20``, ``cranfield`` or ``npl``."""
    return ng20(corpora) if name == "ng20" else pseudo(corpora, name)


def measured(data: dict, scores: np.ndarray) -> str:
    """One validation set's figure for a table: MRR of the titles' own bodies (Cranfield,
    NPL), or P@10 / P@100 by group (the 20 Newsgroups slice)."""
    if "own" in data:
        return f"{pseudo_metrics(scores, data['own'])['MRR']:.4f}"
    m = labelled_metrics(scores, data["doc_labels"], data["query_labels"])
    return f"{m['P@10']:.3f} / {m['P@100']:.3f}"


def fit_encoder(docs: list[str], **options):
    """An :class:`~docret.encoder.Encoder` fitted on ``docs`` as an index fits it, with the
    term counts and model counts it took, and the seconds the fit took."""
    from docret.encoder import Encoder

    began = time.perf_counter()
    encoder = Encoder(**options)
    terms = encoder.count_terms(docs)
    counts = encoder.fit_vocabulary(terms)
    encoder.fit_model(counts)
    return encoder, terms, counts, time.perf_counter() - began


DATASETS = ("ng20", "cranfield", "npl")


def run_worker(spec: dict, corpora: Path, out: Path) -> None:
    from docret.encoder import Encoder

    results = {"name": spec["name"], "options": spec.get("options", {})}
    for name in spec.get("datasets", DATASETS):
        data = load(corpora, name)
        options = {"seed": 0, **spec.get("options", {})}
        if spec.get("batch_rule"):  # batch size from the number of documents
            lo, hi, div = spec["batch_rule"]
            options["batch_size"] = int(np.clip(len(data["docs"]) // div, lo, hi))
        start = time.perf_counter()
        enc = Encoder(**options)
        docs = normalize(enc.fit_transform(data["docs"]))
        fit_s = time.perf_counter() - start
        metrics = evaluate_scores(data, lambda q, e=enc, d=docs: normalize(e.transform(q)) @ d.T)
        metrics.update(fit_s=round(fit_s, 1), epochs=len(enc.history_))
        results[name] = metrics
        print(name, metrics, flush=True)
        (out / f"{spec['name']}.json").write_text(json.dumps(results, indent=1))


def run_baselines(corpora: Path, out: Path, dims: int = 32) -> None:
    from docret.evaluate import Bm25, Lsa, Tfidf
    from docret.text import Analyzer, english_stop_words

    results = {"name": "baselines"}
    for name in DATASETS:
        data = load(corpora, name)
        analyzer = Analyzer(stop_words=english_stop_words())
        tfidf = Tfidf(analyzer).fit(data["docs"])
        row = {"tf-idf": evaluate_scores(data, tfidf.scores)}
        for d in (dims, 128):
            lsa = Lsa(tfidf, d).fit(data["docs"])
            row[f"LSA-{d}"] = evaluate_scores(data, lsa.scores)
        try:
            bm25 = Bm25(analyzer).fit(data["docs"])
            n = len(data["docs"])

            def bm25_scores(q, bm25=bm25, n=n):
                ranks = bm25.search(q, n)
                s = np.zeros((len(q), n))
                s[np.arange(len(q))[:, None], ranks] = -np.arange(n)[None, :]
                return s

            row["BM25"] = evaluate_scores(data, bm25_scores)
        except ImportError:
            pass
        results[name] = row
        print(name, row, flush=True)
        (out / "baselines.json").write_text(json.dumps(results, indent=1))


def run_fit(options: dict, corpora: Path, device: str, out: Path | None) -> None:
    """Time each stage of indexing 20 Newsgroups train (without the database write)."""
    from docret import train  # first: it sets OMP_WAIT_POLICY before torch loads
    from docret.encoder import Encoder

    torch = train.torch
    docs = [d["text"] for d in read_jsonl(corpora / "20newsgroups" / "docs.jsonl.gz")]
    docs = docs[:11314]  # train comes first
    times: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            if device == "cuda":
                torch.cuda.synchronize()
            times[name] = round(time.perf_counter() - start, 2)
            return result

        return wrapper

    train.pretrain = timed("pretrain", train.pretrain)
    train.fit = timed("fit", train.fit)
    enc = Encoder(**{"device": device, **options})
    start = time.perf_counter()
    counts = timed("vocabulary", enc.fit_vocabulary)(docs)
    timed("fit_model", enc.fit_model)(counts)
    codes = timed("encode", enc.encode_counts)(counts)
    times["total"] = round(time.perf_counter() - start, 2)
    times["epochs"] = len(enc.history_)
    times["threads"] = torch.get_num_threads()
    result = {"options": options, "device": device, "times": times, "code_std": float(codes.std())}
    print(json.dumps(result), flush=True)
    if out is not None:
        with open(out / "fit_times.jsonl", "a") as f:
            f.write(json.dumps(result) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["worker", "baselines", "fit"])
    parser.add_argument("spec", nargs="?", default="{}")
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    if args.mode == "worker":
        run_worker(json.loads(args.spec), args.corpora, args.out)
    elif args.mode == "baselines":
        run_baselines(args.corpora, args.out)
    else:
        run_fit(json.loads(args.spec), args.corpora, args.device, args.out)


if __name__ == "__main__":
    sys.exit(main())
