"""``evaluate``: docret against bag-of-words baselines on a labelled corpus or a collection."""

from __future__ import annotations

from typing import Any

import click

from docret.cli import render
from docret.cli.commands import friendly_errors
from docret.cli.options import image_file, json_option, model_options, settings_together


@click.command()
@click.argument("path", type=click.Path())
@model_options
@json_option("one JSON object instead of a table")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False),
    callback=image_file,
    help="Write precision against documents retrieved (log axis) to this image (.png, .pdf "
    "or .svg)",
)
@click.option(
    "--lsa",
    "extra_lsa",
    multiple=True,
    type=click.IntRange(1),
    help="Also run LSA with this many dimensions (repeatable; LSA at the code size always runs)",
)
@friendly_errors
def evaluate(
    path: str, as_json: bool, plot_file: str | None, extra_lsa: tuple[int, ...], **options: Any
) -> None:
    """Compare docret with tf-idf, BM25 and LSA on a labelled corpus or a test collection.

    \b
    PATH is one of:
    - a .jsonl/.jsonl.gz whose documents carry "split": "train" or "test" and labels;
    - a folder with train/ and test/ in <label>/<file> layout (as 20 Newsgroups ships);
    - a folder with docs.jsonl[.gz], queries.jsonl and qrels.tsv (query, doc, relevance, or
      TREC's query, iteration, doc, relevance).
    Labelled corpora: every test document queries the train documents, relevant = a shared
    label (P@1, P@10, P@100, MAP@100). Test collections: MAP, nDCG@10, P@10. Metrics follow
    trec_eval (MAP@100 is map_cut_100, nDCG@10 has linear gains). The first row is docret's
    default ranking. Nothing is written to the database.
    """
    from docret.evaluate import best_scores, load_collection, plot_collection, summary
    from docret.evaluate import evaluate as run_evaluation

    settings_together(options)
    err = render.stderr()
    collection = load_collection(path)
    if not as_json:
        render.collection(err, collection)
    bars = render.ProgressBars(err, as_json)
    try:
        results = run_evaluation(
            collection,
            curve=plot_file is not None,
            extra_lsa=extra_lsa,
            on_method=lambda name: bars.stage(f"Evaluating {name}"),
            progress=bars,
            **options,
        )
    finally:
        bars.stop()
    if plot_file:
        try:
            plot_collection(collection, results, plot_file)
        except ImportError:
            raise click.ClickException(
                "--plot needs matplotlib: pip install 'docret[plot]'"
            ) from None
        except OSError as e:
            raise click.ClickException(f"Cannot write {plot_file}: {e.strerror or e}") from None
    if as_json:
        render.echo_json(summary(collection, results))
        return
    render.evaluation(summary(collection, results), results, best_scores(results))
    if plot_file:
        err.print(f"[dim]Wrote {plot_file}[/]")
