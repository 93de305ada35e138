"""Every bad option or input is a clean error with the right exit code: validated
before any document is read, nothing lost, and the conventions of the README's "Errors"."""

import json
import re
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from docret.cli import cli
from docret.defaults import MIN_VOCAB_SIZE
from docret.index import Index
from docret.mapping import pca_2d
from docret.text import tfidf_matrix

from .conftest import TOPICS, cli_args, write_corpus

TINY = cli_args({"hidden": (8,), "epochs": 1, "pretrain": False, "device": "cpu"})


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def usage_error(result, text):
    """Exit code 2, click's usage message naming ``text``, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and text in result.output


def clean_error(result, text):
    """Exit code 1 and one line ``Error: ...`` that says ``text``."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
    assert text in result.output


@pytest.fixture()
def db_copy(tmp_path, built_db):
    target = tmp_path / "copy.db"
    shutil.copy(built_db, target)
    return target


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--hidden", "10,,5", "widths separated by commas"),
        ("--hidden", "10,5,", "widths separated by commas"),
        ("--seed", "-1", "seed must be a whole number at least 0 and at most 4,294,967,295"),
        ("--seed", "4294967296", "at most 4,294,967,295"),
        ("--device", "bogus", "unknown device 'bogus'"),
        ("--device", "meta", "cannot train on device 'meta'"),
        ("--min-df", "0", "a document count of at least 1"),
        ("--max-df", "0", "a document count of at least 1"),
        ("--max-df", "1.5", "a fraction from 0 to 1"),
        ("--max-df", "nan", "a fraction from 0 to 1"),
        ("--lr", "nan", "lr must be a number above 0 and at most 10, not nan"),
        ("--lr", "inf", "not inf"),
        ("--lr", "1e308", "not 1e+308"),
        ("--lr", "0", "lr must be a number above 0"),
        ("--code-l2", "inf", "code_l2 must be a number at least 0"),
        ("--code-l2", "nan", "code_l2 must be"),
        ("--code-l2", "-1", "code_l2 must be"),
        ("--noise", "nan", "noise must be a number at least 0 and below 1"),
        ("--noise", "1", "noise must be"),
        ("--query-fraction", "nan", "query_fraction must be"),
        ("--negatives", "1000000000000", "negatives must be a whole number at least 0"),
        ("--negatives", "-1", "negatives must be"),
        ("--vocab-size", "1", "vocab_size must be a whole number at least 10"),
        ("--vocab-size", "10000000000", "vocab_size must be"),
        ("--code-size", "0", "code_size must be"),
        ("--code-size", "1000000", "code_size must be"),
        ("--hidden", "500,1000000", "hidden must be whole numbers from 1 to 10,000"),
        ("--epochs", "0", "epochs must be"),
        ("--batch-size", "-5", "batch_size must be"),
        ("--patience", "0", "patience must be"),
        ("--lsa-dims", "-1", "lsa_dims must be"),
        ("--threads", "-1", "threads must be"),
        ("--binary", "100000", "code_size must be"),
    ],
)
def test_bad_model_options_are_refused_before_reading(tmp_path, option, value, says):
    # PATH does not exist: a usage error (2), not "does not exist" (1), shows the option was
    # checked first; and no database file appears.
    db = tmp_path / "x.db"
    usage_error(run("-d", db, "index", tmp_path / "missing", option, value), says)
    usage_error(run("-d", db, "retrain", option, value), says)
    if option != "--binary":  # evaluate has no --binary
        usage_error(run("evaluate", tmp_path / "missing", option, value), says)
    assert not db.exists()
    assert f"'{option}'" in run("-d", db, "index", tmp_path / "missing", option, value).output


def test_a_vocabulary_no_wider_than_the_code_is_refused_before_reading(tmp_path, db_copy):
    db = tmp_path / "x.db"
    args = ["--vocab-size", "20", "--code-size", "32"]
    result = run("-d", db, "index", tmp_path / "missing", *args)
    usage_error(result, "'--vocab-size'")
    assert "vocab_size must be larger than code_size (32)" in result.output
    usage_error(run("evaluate", tmp_path / "missing", *args), "larger than code_size")
    assert not db.exists()
    before = db_copy.read_bytes()
    usage_error(run("-d", db_copy, "retrain", "--code-size", "600"), "larger than code_size (600)")
    assert db_copy.read_bytes() == before


def test_the_python_api_checks_the_same_bounds(tmp_path, corpus_dir, db_copy):
    from docret.errors import DocretError, SettingError

    db = tmp_path / "x.db"
    for settings, says in [
        ({"lr": float("nan")}, "lr must be a number above 0 and at most 10, not nan"),
        ({"lr": 1e308}, "not 1e+308"),
        ({"code_l2": float("inf")}, "code_l2 must be"),
        ({"noise": float("nan")}, "noise must be"),
        ({"negatives": 10**12}, "negatives must be"),
        ({"negatives": 5.0}, "negatives must be a whole number"),
        ({"vocab_size": 1}, "vocab_size must be a whole number at least 10"),
        ({"vocab_size": 20}, "vocab_size must be larger than code_size (32)"),
        ({"weight_decay": float("nan")}, "weight_decay must be"),
        ({"code_noise": float("inf")}, "code_noise must be"),
        ({"validation_fraction": 1.0}, "validation_fraction must be"),
        ({"hidden": (0,)}, "hidden must be"),
        ({"min_df": float("nan")}, "min_df must be"),
        ({"no_such_setting": 1}, "unknown setting 'no_such_setting'"),
    ]:
        with pytest.raises(SettingError, match=re.escape(says)) as raised:
            Index.build(corpus_dir, db, **settings)
        assert isinstance(raised.value, ValueError) and isinstance(raised.value, DocretError)
        assert not db.exists()
    before = db_copy.read_bytes()
    with Index.open(db_copy) as idx, pytest.raises(ValueError, match="lr must be"):
        idx.retrain(lr=float("inf"))
    assert db_copy.read_bytes() == before


def test_an_empty_glob_is_refused_before_reading(tmp_path, db_copy, corpus_dir):
    db = tmp_path / "x.db"
    usage_error(run("-d", db, "index", tmp_path / "missing", "--glob", ""), "'--glob'")
    usage_error(run("-d", db_copy, "add", tmp_path / "missing", "--glob", ""), "file name pattern")
    assert not db.exists()
    from docret.errors import CorpusError

    with pytest.raises(CorpusError, match="file name pattern"):
        Index.build(corpus_dir, db, globs=[""])


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch has a CUDA GPU")
def test_cuda_on_a_cpu_only_torch_is_refused(tmp_path):
    result = run("-d", tmp_path / "x.db", "index", tmp_path / "missing", "--device", "cuda")
    usage_error(result, "sees no CUDA GPU")


def test_image_names_are_checked_before_drawing(db_copy, tmp_path):
    for name, says in [("m.txt", "must end in .png, .pdf or .svg"), ("", "give a file name")]:
        usage_error(run("-d", db_copy, "map", "--out", tmp_path / name if name else ""), says)
        usage_error(run("evaluate", tmp_path / "missing", "--plot", name), says)
    assert not list(tmp_path.glob("*.txt")) and not list(tmp_path.glob(".png"))


def test_tiny_vocabularies_and_one_dimensional_codes(tmp_path):
    corpus = write_corpus(tmp_path / "c", per_topic=5)
    for vocab in (MIN_VOCAB_SIZE, MIN_VOCAB_SIZE + 1):  # the smallest that carry a code
        db = tmp_path / f"v{vocab}.db"
        args = ["--vocab-size", vocab, "--code-size", 1, "--json"]
        result = run("-d", db, "index", corpus, *TINY, *args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["vocabulary"] == vocab
    out = tmp_path / "line.png"
    result = run("-d", db, "map", "--out", out)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_tfidf_of_documents_without_words_at_the_end():
    import scipy.sparse as sp

    counts = sp.csr_matrix(np.array([[2.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]))
    x = tfidf_matrix(counts, np.array([1.0, 2.0], np.float32)).toarray()
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), [1, 0, 1, 0], atol=1e-6)


def test_one_dimensional_codes_map_to_a_line():
    xy = pca_2d(np.array([[1.0], [2.0], [4.0]]))
    assert xy.shape == (3, 2) and np.all(xy[:, 1] == 0)
    np.testing.assert_allclose(np.abs(xy[:, 0]), np.abs([1, 2, 4] - np.mean([1, 2, 4])))


def test_rerank_on_float_codes_says_so(built_db):
    clean_error(run("-d", built_db, "query", "orbit", "--rerank", "50"), "applies to binary")


def test_model_options_on_an_update_are_named_not_silently_dropped(db_copy, corpus_dir):
    model = json.loads(run("-d", db_copy, "info", "--json").stdout)["model"]
    result = run("-d", db_copy, "index", corpus_dir, "--code-size", "5", "--binary", "16")
    assert result.exit_code == 0, result.output
    assert "Ignored --code-size, --binary" in result.stderr and "--retrain" in result.stderr
    assert json.loads(run("-d", db_copy, "info", "--json").stdout)["model"] == model
    # options equal to the stored settings are no news
    result = run("-d", db_copy, "index", corpus_dir, "--code-size", str(model["code_size"]))
    assert result.exit_code == 0 and "Ignored" not in result.stderr


def test_database_option_after_the_command(built_db, tmp_path):
    hits = json.loads(run("query", "orbit", "-d", built_db, "--json").stdout)
    assert hits and hits[0]["id"].startswith("space/")
    # after the command wins over before it and over the environment
    env = {"DOCRET_DB": str(tmp_path / "missing.db")}
    result = run("-d", tmp_path / "missing.db", "info", "--database", built_db, "--json", env=env)
    assert json.loads(result.stdout)["documents"] == 80
    clean_error(run("info", env=env), "not found")
    assert "-d, --database" in run("similar", "--help").stdout
    missing = tmp_path / "missing.db"
    clean_error(run("check", "-d", missing), str(missing))


def test_every_command_on_a_database_takes_it_after_its_name():
    from docret.cli import cli

    needs_none = {"evaluate"}  # reads a corpus or a collection, not a database
    for name, command in cli.commands.items():
        takes = any("--database" in p.opts for p in command.params)
        assert takes != (name in needs_none), name


def test_ids_that_start_with_a_dash(db_copy):
    for command in ("remove", "similar", "words"):
        assert "goes after '--'" in run(command, "--help").stdout
    usage_error(run("-d", db_copy, "remove", "-x.txt"), "No such option")
    clean_error(run("-d", db_copy, "remove", "--", "-draft.txt"), "No document with id '-draft")


def test_unknown_words_are_capped_in_the_message(built_db):
    words = " ".join(f"zzq{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(45))
    result = run("-d", built_db, "query", words)
    clean_error(result, "and 25 more)")
    assert result.output.count("zzq") == 20


def test_usage_errors_exit_2_and_ctrl_c_exits_130(built_db, monkeypatch):
    usage_error(run("-d", built_db, "query", "orbit", "--no-such-option"), "No such option")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Index, "query", interrupted)
    result = run("-d", built_db, "query", "orbit")
    assert result.exit_code == 130
    assert "Interrupted" in result.stderr and "Traceback" not in result.output


def test_info_says_updated_after_a_remove(db_copy):
    assert json.loads(run("-d", db_copy, "info", "--json").stdout)["updated"] is None
    assert run("-d", db_copy, "remove", "space/001.txt").exit_code == 0
    info = json.loads(run("-d", db_copy, "info", "--json").stdout)
    assert info["updated"] is not None and info["documents"] == 79
    assert "never since built" not in run("-d", db_copy, "info").stdout


def test_ids_with_control_characters_are_escaped_in_tables_and_exact_in_json(db_copy, tmp_path):
    words = TOPICS["music"]
    odd = ["evil\nid", "rtl\u202eid", "[bold]markup[/]"]
    lines = [json.dumps({"id": i, "text": f"Odd {n}\n\n{words}"}) for n, i in enumerate(odd)]
    (tmp_path / "odd.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("-d", db_copy, "add", tmp_path / "odd.jsonl").exit_code == 0
    query = ["-d", db_copy, "query", words, "-k", "80"]
    assert {h["id"] for h in json.loads(run(*query, "--json").stdout)} >= set(odd)
    table = run(*query).stdout
    assert "evil\\nid" in table and "rtl\\u202eid" in table and "[bold]markup[/]" in table
    assert "\u202e" not in table and "evil\nid" not in table
    assert "evil\\nid" in run("-d", db_copy, "similar", "evil\nid").stdout


def test_an_id_stored_from_another_path_is_not_replaced(db_copy, corpus_dir, tmp_path):
    other = write_corpus(tmp_path / "other", per_topic=1, seed=7)  # space/000.txt, ...
    before = run("-d", db_copy, "similar", "space/000.txt", "--json").stdout
    result = run("-d", db_copy, "add", other)
    clean_error(result, "already in the index from another path")
    assert "'space/000.txt' (from " in result.output and "--replace" in result.output
    assert run("-d", db_copy, "similar", "space/000.txt", "--json").stdout == before
    with Index.open(db_copy) as idx:
        assert idx.document("space/000.txt").text == (corpus_dir / "space/000.txt").read_text()
    # the same path again is an update, and --replace is the way out
    assert run("-d", db_copy, "add", corpus_dir).exit_code == 0
    data = json.loads(run("-d", db_copy, "add", other, "--replace", "--json").stdout)
    assert len(data["updated"]) == 4
    with Index.open(db_copy) as idx:
        assert idx.document("space/000.txt").text == (other / "space/000.txt").read_text()


def test_two_single_files_with_one_name(db_copy, tmp_path):
    for project in ("proj1", "proj2"):
        (tmp_path / project).mkdir()
        (tmp_path / project / "README.md").write_text(f"{project}\n\norbit rocket {project}")
    assert run("-d", db_copy, "add", tmp_path / "proj1" / "README.md").exit_code == 0
    clean_error(run("-d", db_copy, "add", tmp_path / "proj2" / "README.md"), "'README.md'")
    with Index.open(db_copy) as idx:
        assert idx.document("README.md").title == "proj1"


def test_a_long_unknown_word_is_echoed_cut(built_db):
    long_word = "q" * 100_000
    result = run("-d", built_db, "query", f"{long_word} zzqab")
    clean_error(result, "(unknown: " + "q" * 40 + "…, zzqab)")
    assert len(result.output) < 500
    result = run("-d", built_db, "query", f"orbit {long_word}")  # known word: a ranking
    assert result.exit_code == 0, result.output
    assert "ignored: " + "q" * 40 + "…" in result.output and len(result.output) < 20_000
    many = " ".join(f"{chr(97 + i % 26)}{chr(97 + i // 26)}" * 30_000 for i in range(30))
    result = run("-d", built_db, "query", "orbit " + many)
    assert "and 10 more" in result.output and len(result.output) < 20_000
    with Index.open(built_db) as idx:
        assert idx.unknown_words(f"orbit {long_word}") == ["q" * 40 + "…"]
