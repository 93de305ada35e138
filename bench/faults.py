"""Fault injection: kill docret while it writes, and run readers beside two writers.

Usage (from the repository root):

    python -m bench.faults                     # 24 kills, then 120 s of 3 readers + 2 writers
    python -m bench.faults --kills 2 --seconds 20 --readers 2   # a quick look

1. Kills. A small index of the bundled sample corpus is built once. Each trial copies it, starts
   ``index --retrain``, ``add`` or ``retrain`` as a child process, and sends it SIGKILL or SIGINT
   at a random moment of its run. Afterwards ``docret check`` must pass, a query must answer, and
   the database must be either the old index (same model, ids and codes, byte for byte) or the
   complete new one (all expected ids, codes of one model; for ``add`` the old model).
2. Readers and writers. For a fixed time, N processes run ``docret query`` in a loop while two
   writers change the index: one adds batches of new documents, the other adds its own batches,
   removes documents it added, and retrains. Every write that reported success must be in the
   final index (writes lost = 0), every reader run must exit 0 with hits (reader errors = 0), and
   ``docret check`` must pass at the end.
3. Writes during a rebuild's reading. ``index PATH --retrain`` is stopped (SIGSTOP) while it
   reads PATH; an update, an add and a remove commit; the rebuild goes on. None may be undone.
4. Crafted databases. Copies of the index are damaged with SQLite directly, one way each
   (``CRAFTED``: term ids past the vocabulary, invalid UTF-8, damaged pages, numbers and JSON
   that are not, weights of the wrong shape, ...), and every command of ``CRAFTED_COMMANDS``
   runs on each in a child process of bounded memory. Each must end cleanly (exit 0, or exit 1
   with one ``Error:`` line; no traceback, no crash) and ``check`` must report every kind.
   ``--crafted-only`` runs this part alone.
5. Bad inputs. Options out of range or not numbers, empty patterns, odd files (a name that is not
   UTF-8, a JSON line nested too deep, UTF-16 without a byte-order mark, an unknown word of 100,000
   letters), qrels of another form: each command must end cleanly as above, and nothing stored
   may change (the index's ids and codes are compared before and after).
   ``--inputs-only`` runs this part alone.

Everything runs through ``python -m docret`` with tiny training settings, so what is measured is
the storage layer, not the model. Parts 1 to 4 are the tests' own fault injection
(tests/fault_helpers.py, where ``CRAFTED`` and ``CRAFTED_COMMANDS`` are), run here for
minutes instead of seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.fault_helpers import (
    CRAFTED,
    CRAFTED_COMMANDS,
    SAMPLE,
    TINY,
    KillResult,
    build,
    clean_ending,
    common_word,
    copy_database,
    crafted_args,
    docret,
    kill_trials,
    limited_memory,
    readers_and_writers,
    run,
    sample_texts,
    state,
    write_batch,
    writes_during_reading,
)


# -- 4. crafted databases ---------------------------------------------------------------------
@dataclass
class CraftedRun:
    """One command on one crafted file, and whether it ended cleanly."""

    kind: str
    command: str
    returncode: int
    clean: bool  # exit 0, or exit 1 with one "Error: ..." line (check: one "Problem:" line each)
    output: str


def crafted_trials(
    pristine: Path, work: Path, kinds: dict[str, Callable[[Path], None]] | None = None
) -> list[CraftedRun]:
    """Run every command of :data:`CRAFTED_COMMANDS` on a copy of ``pristine`` crafted each
    way of ``kinds`` (default :data:`CRAFTED`), each in a child process of bounded memory."""
    conn = sqlite3.connect(f"{pristine.resolve().as_uri()}?mode=ro", uri=True)
    (doc_id,) = conn.execute("select id from documents order by rowid limit 1").fetchone()
    conn.close()
    word = common_word(pristine)
    folder, _ = write_batch(work / "crafted-add", "extra", [f"{word} added text {word}"])
    runs = []
    for kind, craft in (kinds or CRAFTED).items():
        for command in CRAFTED_COMMANDS:
            db = work / "crafted.db"
            copy_database(pristine, db)
            craft(db)
            args = crafted_args(command, doc_id, word, folder)
            proc = docret(db, *args, preexec_fn=limited_memory)
            out, err = proc.communicate(timeout=600)
            clean = clean_ending(command, proc.returncode, err)
            if command == "check":
                clean = clean and proc.returncode == 1  # check must find what was crafted
            runs.append(CraftedRun(kind, command, proc.returncode, clean, err.strip()[-300:]))
    return runs


# -- 5. bad inputs ----------------------------------------------------------------------------
def bad_inputs(work: Path) -> dict[str, list[str]]:
    """Each bad input's arguments for ``docret -d DB``, with the files they need written under
    ``work`` (an index of the sample is in DB)."""
    odd = work / "odd"
    odd.mkdir(exist_ok=True)
    (odd / os.fsdecode(b"bad\xff.txt")).write_text("engine failure on takeoff\n" * 20)
    (odd / "deep.jsonl").write_text(
        "[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"id": "ok", "text": "engine " * 30})
    )
    (odd / "utf16.txt").write_bytes(("engine failure on takeoff " * 20).encode("utf-16-le"))
    qrels = work / "collection"
    qrels.mkdir(exist_ok=True)
    (qrels / "docs.jsonl").write_text(json.dumps({"id": "d1", "text": "engine " * 50}) + "\n")
    (qrels / "queries.jsonl").write_text(json.dumps({"id": "q1", "text": "engine"}) + "\n")
    (qrels / "qrels.tsv").write_text("q1 d1\n")
    sample = str(SAMPLE)
    inputs = {
        f"index {option} {value}": ["index", sample, "--retrain", option, value]
        for option, value in [
            ("--lr", "nan"),
            ("--lr", "inf"),
            ("--lr", "1e308"),
            ("--code-l2", "inf"),
            ("--noise", "nan"),
            ("--negatives", "1e12"),
            ("--vocab-size", "1"),
            ("--epochs", "-1"),
            ("--hidden", "0"),
            ("--min-df", "nan"),
            ("--glob", ""),
        ]
    }
    inputs.update(
        {
            "add a folder of odd files": ["add", str(odd)],
            "query an unknown word of 100,000 letters": ["query", "q" * 100_000],
            "query nothing but stop words": ["query", "the of and"],
            "query -k 0": ["query", "engine", "-k", "0"],
            "similar an unknown id": ["similar", "no/such/id.txt"],
            "remove an unknown id": ["remove", "no/such/id.txt"],
            "evaluate qrels of two columns": ["evaluate", str(qrels), *TINY],
            "add a path that does not exist": ["add", str(work / "missing")],
        }
    )
    return inputs


@dataclass
class InputRun:
    """One bad input: whether its command ended cleanly (exit 0, or 1 or 2 with an ``Error:``
    line last; no traceback) and lost nothing stored (a refused command changed nothing)."""

    name: str
    returncode: int
    clean: bool
    intact: bool
    output: str


def bad_input_trials(pristine: Path, work: Path) -> list[InputRun]:
    """Run every :func:`bad_inputs` command on a copy of ``pristine``."""
    runs = []
    for name, args in bad_inputs(work).items():
        db = work / "inputs.db"
        copy_database(pristine, db)
        before = state(db)
        done = run(db, *args)
        after = state(db)
        # refused: nothing changed; accepted (odd files are skipped or read): nothing lost
        intact = before == after if done.returncode else before.ids <= after.ids
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        clean = "Traceback" not in done.stderr and (
            done.returncode == 0
            or (done.returncode in (1, 2) and bool(lines) and lines[-1].startswith("Error: "))
        )
        runs.append(InputRun(name, done.returncode, clean, intact, done.stderr.strip()[-300:]))
    return runs


def print_inputs(runs: list[InputRun], seconds: float) -> None:
    """The bad inputs' line of the report."""
    print(
        f"bad inputs tried / handled cleanly: {len(runs)} tried, "
        f"{sum(r.clean for r in runs)} clean, {sum(r.returncode not in (0, 1, 2) for r in runs)} "
        f"crashed, {sum(not r.intact for r in runs)} lost or changed what was stored "
        f"({seconds:.0f} s)"
    )
    for r in runs:
        if not (r.clean and r.intact):
            last = r.output.splitlines()[-1] if r.output else ""
            print(f"  NOT CLEAN: {r.name}: exit {r.returncode}: {last[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=8, help="kills per operation")
    parser.add_argument("--seconds", type=float, default=120.0, help="readers + writers time")
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip-kills", action="store_true", help="only readers and writers (e.g. on old code)"
    )
    parser.add_argument("--crafted-only", action="store_true", help="only crafted databases")
    parser.add_argument("--inputs-only", action="store_true", help="only bad inputs")
    opts = parser.parse_args()
    if opts.crafted_only:
        part_main("crafted", crafted_trials, print_crafted)
        return
    if opts.inputs_only:
        part_main("inputs", bad_input_trials, print_inputs)
        return
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pristine = work / "pristine.db"
        build(pristine, SAMPLE)
        old_ids = set(state(pristine).ids)
        texts = sample_texts()
        folder, added = write_batch(work / "extra", "new", texts[:40])
        operations = {
            "index --retrain": (["index", str(SAMPLE), "--retrain", *TINY], old_ids, True),
            "add": (["add", str(folder)], old_ids | set(added), False),
            "retrain": (["retrain", *TINY], old_ids, True),
        }
        t0 = time.perf_counter()
        query = common_word(pristine)
        kills = (
            []
            if opts.skip_kills
            else kill_trials(pristine, work, operations, opts.kills, opts.seed, query=query)
        )
        kill_seconds = time.perf_counter() - t0
        db = work / "traffic.db"
        copy_database(pristine, db)
        traffic = readers_and_writers(
            db, work, texts, opts.seconds, opts.readers, query, retrain_every=2
        )
        reading = writes_during_reading(work, SAMPLE)
        t0 = time.perf_counter()
        crafted = crafted_trials(pristine, work)
        crafted_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        inputs = bad_input_trials(pristine, work)
        inputs_seconds = time.perf_counter() - t0
    print(f"# python -m bench.faults, {started}, {platform.node()} ({os.cpu_count()} CPUs)")
    print_kills(kills, list(operations), kill_seconds)
    print(
        f"readers and writers, {traffic.seconds:.0f} s, {opts.readers} readers: "
        f"{traffic.reads} reads, reader errors {len(traffic.reader_errors)}; writes "
        f"{traffic.writes}, writer errors {len(traffic.writer_errors)}, "
        f"writes lost {traffic.writes_lost}, check {'ok' if traffic.check_ok else 'FAILED'}"
    )
    for line in traffic.reader_errors[:5] + traffic.writer_errors[:5]:
        print(f"  {line}")
    print(
        f"writes during a rebuild's reading: {reading.writes} of 3 committed, "
        f"writes lost {len(reading.lost)}"
        + (f" ({', '.join(reading.lost)})" if reading.lost else "")
        + f", rebuild {'ok' if reading.rebuild_ok else 'FAILED'}, "
        f"check {'ok' if reading.check_ok else 'FAILED'}"
    )
    print_crafted(crafted, crafted_seconds)
    print_inputs(inputs, inputs_seconds)


def print_kills(kills: list[KillResult], operations: list[str], seconds: float) -> None:
    """The kills' lines of the report, one per operation, then each kill not survived."""
    survived = [k for k in kills if k.outcome in ("old", "new") and k.check_ok and k.query_ok]
    print(f"kills: {len(survived)} of {len(kills)} survived ({seconds:.0f} s)")
    for name in operations:
        mine = [k for k in kills if k.operation == name]
        outcomes = {o: sum(k.outcome == o for k in mine) for o in ("old", "new")}
        print(
            f"  {name}: {len(mine)} kills, old {outcomes['old']}, new {outcomes['new']}, "
            f"check failed {sum(not k.check_ok for k in mine)}, "
            f"query failed {sum(not k.query_ok for k in mine)}, "
            f"finished before the signal {sum(not k.killed for k in mine)}; killed at "
            + ", ".join(f"{k.delay:.1f}" for k in sorted(mine, key=lambda k: k.delay))
            + " s of CPU"
        )
    for k in kills:
        if k not in survived:
            print(f"  NOT SURVIVED: {k}")


def part_main(name: str, trials: Callable, report: Callable) -> None:
    """Build a tiny index, run one part's ``trials`` on it and print its ``report``."""
    started = datetime.now().strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pristine = work / "pristine.db"
        build(pristine, SAMPLE)
        t0 = time.perf_counter()
        runs = trials(pristine, work)
        seconds = time.perf_counter() - t0
    print(f"# python -m bench.faults --{name}-only, {started}, {platform.node()}")
    report(runs, seconds)


def print_crafted(runs: list[CraftedRun], seconds: float) -> None:
    """The crafted databases' lines of the report."""
    kinds = list(dict.fromkeys(r.kind for r in runs))
    found = [r.kind for r in runs if r.command == "check" and r.clean]
    print(
        f"crafted databases tried / refused cleanly: {len(runs)} runs ({len(kinds)} kinds x "
        f"{len(CRAFTED_COMMANDS)} commands), {sum(r.clean for r in runs)} clean, "
        f"{sum(r.returncode == 1 for r in runs)} refused (exit 1), "
        f"{sum(r.returncode not in (0, 1) for r in runs)} crashed; check found "
        f"{len(found)} of {len(kinds)} kinds ({seconds:.0f} s)"
    )
    for r in runs:
        if not r.clean:
            last = r.output.splitlines()[-1] if r.output else ""
            print(f"  NOT CLEAN: {r.kind} / {r.command}: exit {r.returncode}: {last[:160]}")


if __name__ == "__main__":
    main()
