import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from docret.cli import cli

from .conftest import FAST, TOPICS, cli_args, write_corpus

FAST_ARGS = cli_args(FAST)


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def assert_clean_error(result, text):
    """Exit code 1, one 'Error:' line that says ``text``, and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ")
    assert text in lines[-1]


@pytest.mark.parametrize(
    "command",
    [
        [],
        *(
            [c]
            for c in (
                "index",
                "query",
                "similar",
                "info",
                "evaluate",
                "add",
                "remove",
                "retrain",
                "explain",
                "words",
                "map",
            )
        ),
    ],
)
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


def test_index_then_query_json_and_table(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "broken.txt").write_bytes(b"\x00\x00binary")
    db = tmp_path / "cli.db"
    result = run("-d", db, "index", corpus, *FAST_ARGS, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["documents"] == 80 and report["skipped"] == 1
    assert report["skipped_reasons"] == {"binary file": 1}

    result = run("-d", db, "query", "orbit rocket launch", "-k", "3", "--json")
    hits = json.loads(result.stdout)
    keys = ["highlights", "id", "labels", "metadata", "score", "snippet", "snippet_start", "title"]
    assert [sorted(h) for h in hits] == [keys] * 3
    assert all(h["id"].startswith("space/") for h in hits)

    result = run("-d", db, "query", "orbit rocket launch")
    assert result.exit_code == 0
    assert "space/" in result.stdout and "score" in result.stdout

    codes = json.loads(
        run(
            "-d", db, "query", "orbit rocket launch", "-k", "3", "--method", "codes", "--json"
        ).stdout
    )
    result = run("-d", db, "query", "orbit rocket launch", "-k", "3", "--hybrid", "--json")
    hybrid = json.loads(result.stdout)
    assert all(h["id"].startswith("space/") for h in hybrid)
    # tf-idf cosine is added to the code cosine, so every score grows (these hits share words)
    assert min(h["score"] for h in hybrid) > max(h["score"] for h in codes)
    assert "Learned codes + tf-idf" in run("-d", db, "query", "orbit", "--hybrid").stdout
    from docret.index import Index

    with Index.open(db) as idx:  # the default's title names the scores that weigh in it
        title = idx.default_ranking()
    assert title.startswith("BM25") and f"{title}: orbit" in run("-d", db, "query", "orbit").stdout
    result = run("-d", db, "query", "orbit", "--hybrid", "--method", "bm25")
    assert result.exit_code == 1 and "--hybrid contradicts --method bm25" in result.stderr


def test_index_reports_skips_on_stderr(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=3)
    (corpus / "empty.txt").write_text("")
    result = run("-d", tmp_path / "x.db", "index", corpus, *FAST_ARGS, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "Skipped empty.txt: empty" in result.stderr
    assert "Indexed 12 documents" in result.stderr
    assert "skipped 1 (1 empty)" in result.stderr


def test_a_build_lists_the_first_skips_and_an_update_lists_every_one(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=3)
    for i in range(23):
        (corpus / f"empty{i:02d}.txt").write_text("")
    args = ["-d", tmp_path / "x.db", "index", corpus]
    built = run(*args, *FAST_ARGS, "--epochs", "2")
    assert built.exit_code == 0, built.output
    assert built.stderr.count("Skipped empty") == 20 and "… and 3 more skipped" in built.stderr
    updated = run(*args, "--epochs", "3")
    assert updated.exit_code == 0, updated.output
    assert updated.stderr.index("Ignored --epochs") < updated.stderr.index("Skipped empty00")
    assert updated.stderr.count("Skipped empty") == 23 and "more skipped" not in updated.stderr
    assert "unchanged 12, skipped 23 (stored model kept)" in updated.stderr


def test_info_shows_the_long_queries_weights_where_chosen(built_db, monkeypatch):
    from docret.index import Index

    info = Index.info

    def with_long(self):
        data = info(self)
        long = {"codes": 0.7, "lsa": 0.1, "queries": 1234, "terms": 31.6, "chosen_by": "labels"}
        return data | {"ranking": data["ranking"] | {"long": long, "long_from_terms": 31.6}}

    monkeypatch.setattr(Index, "info", with_long)
    text = " ".join(run("-d", built_db, "info").stdout.split())  # the table wraps long rows
    assert (
        "Long queries learned codes 0.7 + LSA 0.1 from 32 terms on (chosen on 1,234 "
        "pseudo-queries as long as a paragraph), moving there from 12 terms"
    ) in text


def test_database_from_environment_variable(built_db):
    result = run("query", "guitar", "--json", env={"DOCRET_DB": str(built_db)})
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["id"].startswith("music/")


def test_compare(built_db):
    result = run("-d", built_db, "query", "anchor hull", "--compare", "-k", "4", "--json")
    data = json.loads(result.stdout)
    assert data["query"] == "anchor hull" and data["methods"] == ["default", "bm25"]
    assert len(data["default"]) == len(data["bm25"]) == 4
    both = set(data["both"])
    assert both == {h["id"] for h in data["default"]} & {h["id"] for h in data["bm25"]}
    assert all(h["in_both"] == (h["id"] in both) for h in data["default"] + data["bm25"])
    table = run("-d", built_db, "query", "anchor hull", "--compare", "-k", "4")
    from docret.index import Index

    with Index.open(built_db) as idx:
        title = idx.default_ranking()
    assert f"{title} vs BM25" in table.stdout and "found by both" in table.stdout
    codes = run("-d", built_db, "query", "anchor", "--compare", "--method", "codes", "--json")
    assert json.loads(codes.stdout)["methods"] == ["codes", "bm25"]
    likely = json.loads(
        run("-d", built_db, "query", "anchor hull", "--method", "likelihood", "--json").stdout
    )
    # Scores are the likelihood and the cosine, each scaled to [0, 1], best first.
    scores = [h["score"] for h in likely]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1
    assert likely[0]["id"].startswith("sailing/")


def test_similar_and_info(built_db):
    data = json.loads(run("-d", built_db, "similar", "cooking/001.txt", "--json").stdout)
    assert len(data) == 10 and "cooking/001.txt" not in [h["id"] for h in data]
    assert sum(h["id"].startswith("cooking/") for h in data) >= 8
    table = run("-d", built_db, "similar", "cooking/001.txt", "-k", "2")
    assert "Similar to cooking/001.txt" in table.stdout

    info = json.loads(run("-d", built_db, "info", "--json").stdout)
    assert info["documents"] == 80 and set(info["labels"]) == set(TOPICS)
    text = run("-d", built_db, "info").stdout
    assert "Documents" in text and "80" in text and "Vocabulary" in text
    assert "pre-trained, then" in text
    ranking = info["ranking"]
    bm25 = f"BM25 (k1 {ranking['bm25']['k1']}, b {ranking['bm25']['b']})"
    assert f"{bm25} + learned codes {ranking['codes']} + LSA {ranking['lsa']} (chosen on" in text
    # What chose the weights, in words.
    said = {
        "known items": "pseudo-queries)",
        "labels": "pseudo-queries, answered by their documents' labels)",
        "neighbours": "pseudo-queries, answered by their documents' nearest neighbours)",
    }
    assert said[ranking["chosen_by"]] in " ".join(text.split())


def test_no_pretrain_is_stored_and_shown(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", per_topic=3)
    db = tmp_path / "np.db"
    args = ["-d", db, "index", corpus, *FAST_ARGS, "--epochs", "1", "--no-pretrain"]
    assert run(*args).exit_code == 0
    assert json.loads(run("-d", db, "info", "--json").stdout)["model"]["pretrained"] is False
    assert "not pre-trained" in run("-d", db, "info").stdout


def test_errors_are_one_clean_line(tmp_path, built_db):
    assert_clean_error(
        run("-d", tmp_path / "x.db", "index", tmp_path / "missing"), "does not exist"
    )
    (tmp_path / "emptydir").mkdir()
    assert_clean_error(
        run("-d", tmp_path / "x.db", "index", tmp_path / "emptydir"), "No readable documents"
    )
    tiny = write_corpus(tmp_path / "tiny", per_topic=2)
    assert_clean_error(run("-d", tmp_path / "x.db", "index", tiny, *FAST_ARGS), "at least 10")
    assert_clean_error(run("-d", built_db, "query", ""), "Query is empty")
    assert_clean_error(run("-d", built_db, "query", "zebra quokka"), "unknown: zebra, quokka")
    assert_clean_error(run("-d", built_db, "query", "the of and"), "only stop words")
    assert_clean_error(run("-d", tmp_path / "none.db", "query", "x"), "Database not found")
    assert_clean_error(run("-d", tmp_path / "none.db", "info"), "Database not found")
    junk = tmp_path / "junk.db"
    junk.write_text("hello, I am a text file" * 50)
    assert_clean_error(run("-d", junk, "info"), "Not a docret database")
    assert_clean_error(run("-d", junk, "index", tiny), "Not a docret database")
    assert junk.read_text().startswith("hello")  # nothing lost
    assert_clean_error(run("-d", built_db, "similar", "no/such.txt"), "No document with id")


def test_newer_schema_is_refused(tmp_path, corpus_dir):
    import sqlite3

    db = tmp_path / "n.db"
    assert run("-d", db, "index", corpus_dir, *FAST_ARGS, "--epochs", "1").exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("update meta set value = '999' where key = 'schema_version'")
    conn.commit()
    conn.close()
    assert_clean_error(run("-d", db, "query", "orbit"), "newer docret")


def test_bad_options_are_usage_errors(tmp_path, corpus_dir):
    result = run("-d", tmp_path / "x.db", "index", corpus_dir, "--hidden", "500,abc")
    assert result.exit_code == 2 and "500,250,125" in result.output
    result = run("-d", tmp_path / "x.db", "index", corpus_dir, "--max-df", "1.5")
    assert result.exit_code == 2


def _imported_modules(*args):
    code = (
        "import sys; from docret.cli import cli\n"
        f"try: cli({list(args)!r})\n"
        "except SystemExit: pass\n"
        "print('MODULES', ' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines()[-1].split()[1:])


def test_help_imports_neither_torch_nor_sklearn():
    modules = _imported_modules("--help")
    assert "click" in modules
    assert "torch" not in modules and "sklearn" not in modules


def test_query_imports_neither_torch_nor_sklearn(built_db):
    modules = _imported_modules("-d", str(built_db), "query", "orbit", "--json")
    assert "numpy" in modules and "sqlite_utils" in modules
    assert "torch" not in modules and "sklearn" not in modules


def test_python_dash_m(built_db):
    out = subprocess.run(
        [sys.executable, "-m", "docret", "-d", str(built_db), "query", "violin", "--json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["id"].startswith("music/")


def test_failed_index_creates_no_database(tmp_path):
    db = tmp_path / "new.db"
    assert_clean_error(run("-d", db, "index", tmp_path / "missing"), "does not exist")
    assert not db.exists()


def test_binary_index_and_rerank(tmp_path, corpus_dir):
    db = tmp_path / "bin.db"
    result = run("-d", db, "index", corpus_dir, *FAST_ARGS, "--binary", "16", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(run("-d", db, "info", "--json").stdout)
    assert info["model"]["binary"] is True and info["model"]["code_size"] == 16
    text = " ".join(run("-d", db, "info").stdout.split())  # the table wraps long rows
    bm25 = info["ranking"]["bm25"]
    assert "16 binary" in text
    assert f"binary codes (--method bm25: BM25 k1 {bm25['k1']}, b {bm25['b']})" in text
    hits = json.loads(
        run("-d", db, "query", "violin guitar chord", "--rerank", "20", "--json").stdout
    )
    assert len(hits) == 10 and sum(h["id"].startswith("music/") for h in hits) >= 7
    # --compare with --rerank shows the re-ranked codes (a binary index's default) beside BM25
    args = ["-d", db, "query", "violin guitar chord", "--compare"]
    compared = json.loads(run(*args, "--rerank", "20", "--json").stdout)
    assert [h["id"] for h in compared["default"]] == [h["id"] for h in hits]
    assert [h["score"] for h in compared["default"]] == [h["score"] for h in hits]
    hamming = json.loads(run(*args, "--json").stdout)
    assert [h["score"] for h in hamming["default"]] != [h["score"] for h in hits]
    assert [h["id"] for h in hamming["bm25"]] == [h["id"] for h in compared["bm25"]]
    assert info["ranking"]["default"] == "codes"
    result = run("-d", db, "query", "violin", "--hybrid")
    assert result.exit_code == 1 and "needs float codes" in result.stderr
    assert "Traceback" not in result.output


def test_explain_words_and_query_explain(built_db):
    data = json.loads(run("-d", built_db, "explain", "guitar chord", "-k", "5", "--json").stdout)
    assert len(data) == 5 and set(data[0]) == {"word", "weight"}
    assert "What the code of" in run("-d", built_db, "explain", "guitar chord").stdout
    data = json.loads(run("-d", built_db, "words", "music/001.txt", "--json").stdout)
    assert len(data) == 15
    assert "music/001.txt" in run("-d", built_db, "words", "music/001.txt").stdout
    hits = json.loads(
        run("-d", built_db, "query", "guitar", "--explain", "--json", "-k", "3").stdout
    )
    assert all(len(h["shared_words"]) == 5 for h in hits)
    table = run("-d", built_db, "query", "guitar", "--explain").stdout
    assert "shared" in table and "The query's code stands for:" in table
    assert_clean_error(run("-d", built_db, "words", "ghost"), "No document with id 'ghost'")
    assert_clean_error(run("-d", built_db, "explain", "zebra"), "unknown: zebra")


def test_map_command(built_db, tmp_path):
    out = tmp_path / "m.png"
    result = run("-d", built_db, "map", "--out", out, "--compare-lsa")
    assert result.exit_code == 0, result.output
    assert out.exists() and "80 documents" in result.stderr


def test_index_shows_progress_bars(tmp_path):
    corpus = write_corpus(tmp_path / "c", per_topic=3)
    result = run("-d", tmp_path / "p.db", "index", corpus, *FAST_ARGS, "--epochs", "2")
    assert result.exit_code == 0, result.output
    for bar in ("Reading", "Vocabulary", "Training (epochs)", "Writing", "12/12", "2/2"):
        assert bar in result.stderr, bar


def test_map_to_an_unwritable_place_is_a_clean_error(built_db, tmp_path):
    assert_clean_error(
        run("-d", built_db, "map", "--out", tmp_path / "no" / "such" / "dir" / "m.png"),
        "Cannot write",
    )
