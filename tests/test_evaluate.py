import json
import re

import pytest
from click.testing import CliRunner

from docret.cli import cli
from docret.errors import CorpusError
from docret.evaluate import load_collection

from .conftest import TOPICS, write_corpus
from .test_cli import FAST_ARGS


@pytest.fixture(scope="module")
def split_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("split")
    write_corpus(root / "train", per_topic=15, seed=1)
    write_corpus(root / "test", per_topic=4, seed=2)
    return root


@pytest.fixture(scope="module")
def ir_collection(tmp_path_factory):
    root = tmp_path_factory.mktemp("ir")
    docs = write_corpus(root / "src", per_topic=12, seed=4)
    with open(root / "docs.jsonl", "w") as f:
        for p in sorted(docs.rglob("*.txt")):
            f.write(json.dumps({"id": p.stem + p.parent.name, "text": p.read_text()}) + "\n")
    queries = {f"q-{t}": " ".join(words.split()[:3]) for t, words in TOPICS.items()}
    queries["q-unjudged"] = "orbit"
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"id": q, "text": t}) + "\n" for q, t in queries.items())
    )
    qrels = [f"q-{t}\t{i:03d}{t}\t{1 + i % 2}" for t in TOPICS for i in range(12)]
    (root / "qrels.tsv").write_text("\n".join(qrels) + "\n")
    return root


def _evaluate(*args):
    return CliRunner().invoke(
        cli, ["evaluate", *map(str, args), *FAST_ARGS], catch_exceptions=False
    )


def test_evaluate_labelled_folder_json_and_plot(split_corpus, tmp_path):
    png = tmp_path / "curve.png"
    result = _evaluate(split_corpus, "--json", "--plot", png)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["corpus"] == split_corpus.name and data["protocol"] == "label"
    assert (data["documents"], data["queries"]) == (60, 16)
    methods = {m["method"]: m for m in data["methods"]}
    assert [m["method"] for m in data["methods"]] == [
        "docret default",
        "docret codes",
        "docret likelihood",
        "docret hybrid",
        "tf-idf cosine",
        "BM25",
        "LSA-8",
    ]
    assert data["queries_left_out"] == 0
    assert methods["docret default"]["fusion"]["codes"] in [i / 10 for i in range(10)]
    for m in methods.values():
        assert set(m) >= {"P@1", "P@10", "P@100", "MAP@100", "fit_seconds", "query_ms"}
        assert 0.0 <= m["P@10"] <= 1.0 and m["fit_seconds"] >= 0
    # Four clean topics: everything should beat chance (0.25) by far.
    assert methods["tf-idf cosine"]["P@10"] > 0.8
    assert methods["docret codes"]["P@10"] > 0.6
    assert methods["docret likelihood"]["P@10"] > 0.6
    # P@100 over 60 documents divides by 100 (trec_eval): 15 of the 60 share the label.
    assert methods["tf-idf cosine"]["P@100"] == pytest.approx(15 / 100)
    from PIL import Image

    with Image.open(png) as im:
        im.verify()
        assert im.format == "PNG" and im.size[0] > 300


def test_evaluate_table(split_corpus):
    result = _evaluate(split_corpus, "--lsa", "3")
    assert result.exit_code == 0, result.output
    for word in ("docret codes", "BM25", "LSA-8", "LSA-3", "P@10", "MAP@100", "query ms"):
        assert word in result.stdout
    # The default row's choice, as an index of these documents would store it.
    caption = " ".join(result.stdout.split("docret default: ")[1].split())
    chosen = r"\(chosen by (known items|labels|neighbours)\)"
    assert re.match(rf"BM25 k1 [\d.]+, b [\d.]+; codes 0\.\d, LSA 0\.\d {chosen}", caption), caption


def test_evaluate_test_collection(ir_collection):
    result = _evaluate(ir_collection, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # the unjudged query is left out, as trec_eval does, and counted
    assert data["protocol"] == "qrels" and data["queries"] == 4
    assert data["queries_left_out"] == 1
    for m in data["methods"]:
        assert set(m) >= {"MAP", "nDCG@10", "P@10"}
    bm25 = next(m for m in data["methods"] if m["method"] == "BM25")
    assert bm25["P@10"] > 0.7


def test_jsonl_with_splits(tmp_path):
    lines = [
        {"id": i, "text": f"doc {i}", "labels": ["a"], "split": s}
        for i, s in enumerate(["train", "test"])
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    c = load_collection(path)
    assert (len(c.documents), len(c.queries), c.protocol) == (1, 1, "labels")


def test_not_an_evaluation_corpus(tmp_path, corpus_dir):
    with pytest.raises(CorpusError, match="not an evaluation corpus"):
        load_collection(corpus_dir)
    result = _evaluate(tmp_path / "missing")
    assert result.exit_code == 1 and "does not exist" in result.output


def test_evaluate_runs_extra_methods_beside_the_others(ir_collection):
    import numpy as np

    from docret.evaluate import Method, evaluate

    from .conftest import FAST

    def topic(text):
        words = set(text.split())
        return max(TOPICS, key=lambda t: len(words & set(TOPICS[t].split())))

    class Oracle(Method):
        """Knows each text's topic: every judged document of the query's topic ranks first."""

        name = "oracle"

        def fit(self, texts):
            self.topics = [topic(t) for t in texts]
            return self

        def scores(self, texts):
            return np.array([[float(topic(q) == t) for t in self.topics] for q in texts])

    results = evaluate(load_collection(ir_collection), extra_methods=[Oracle()], **FAST)
    assert [r.method for r in results][:4] == [
        "docret default",
        "docret codes",
        "docret likelihood",
        "docret hybrid",
    ]
    assert results[-1].method == "oracle"
    assert results[-1].metrics["MAP"] == pytest.approx(1.0)


def test_labelled_queries_without_a_relevant_document_are_left_out(tmp_path):
    lines = [
        {"id": i, "text": f"doc {i}", "labels": [label], "split": split}
        for i, (label, split) in enumerate(
            [("a", "train"), ("a", "test"), ("b", "test"), ("b", "test")]
        )
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    c = load_collection(path)
    assert [q.id for q in c.queries] == ["1"] and c.left_out == 2


def test_docret_bm25_scores_equal_the_bm25s_baseline(ir_collection):
    import numpy as np

    from docret.evaluate import Bm25, Lexical
    from docret.text import Analyzer, english_stop_words

    c = load_collection(ir_collection)
    texts, queries = [d.text for d in c.documents], [q.text for q in c.queries]
    analyzer = Analyzer(stop_words=english_stop_words())
    ours = Lexical(analyzer).fit(texts).scores(queries)
    reference = Bm25(analyzer).fit(texts).retriever
    expected = [reference.get_scores(analyzer(q)) for q in queries]
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_qrels_in_three_and_four_columns_tabs_or_spaces(tmp_path):
    from docret.evaluate import read_qrels

    path = tmp_path / "qrels.tsv"
    three = "q1\tdoc a\t2\nq1 d2 0\n"  # a tab line keeps the space in its id
    four = "q1 0 doc-b 1\nq2\tQ0\td3\t1\n\nq2   0   d4   2\n"
    path.write_text(three + four)
    assert read_qrels(path) == {
        "q1": {"doc a": 2, "d2": 0, "doc-b": 1},
        "q2": {"d3": 1, "d4": 2},
    }
    path.write_text("q1 0 d1 1\n")  # TREC's form: the document is the third field, not "0"
    assert read_qrels(path) == {"q1": {"d1": 1}}


@pytest.mark.parametrize(
    ("bad", "lineno"),
    [
        ("q1 d1", 2),
        ("q1 0 d1 1 extra", 2),
        ("q1 0 d1 high", 2),
        ("q1\t\td1\t1", 2),
        ("x 1.5 d 0.5", 2),
    ],
)
def test_qrels_lines_of_another_form_are_refused_with_their_number(tmp_path, bad, lineno):
    from docret.evaluate import read_qrels

    path = tmp_path / "qrels.tsv"
    path.write_text(f"q1 d0 1\n{bad}\n")
    with pytest.raises(CorpusError, match=rf"qrels.tsv:{lineno}: expected query, document"):
        read_qrels(path)


def test_evaluate_reads_trec_qrels_and_refuses_a_bad_line_in_one_line(ir_collection, tmp_path):
    trec = tmp_path / "trec"
    trec.mkdir()
    for name in ("docs.jsonl", "queries.jsonl"):
        (trec / name).write_bytes((ir_collection / name).read_bytes())
    lines = (ir_collection / "qrels.tsv").read_text().splitlines()
    as_trec = [" ".join([q, "0", d, r]) for q, d, r in (line.split("\t") for line in lines)]
    (trec / "qrels.tsv").write_text("\n".join(as_trec) + "\n")
    assert load_collection(trec).qrels == load_collection(ir_collection).qrels
    (trec / "qrels.tsv").write_text("\n".join([*as_trec, "q-x d"]) + "\n")
    result = CliRunner().invoke(cli, ["evaluate", str(trec)], catch_exceptions=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"Error: {trec / 'qrels.tsv'}:{len(lines) + 1}: expected query, document, relevance (or "
        "TREC's query, iteration, document, relevance) with a whole-number relevance, got 2 "
        "field(s)"
    ]
