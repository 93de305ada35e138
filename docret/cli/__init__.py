"""The ``docret`` command line: parse options, call :class:`~docret.index.Index`, render.

Nothing heavy is imported at module level, so ``docret --help`` starts fast; ``index`` is the
only command that loads torch and scikit-learn. Tables and progress are drawn with rich
(progress on stderr); ``--json`` prints machine-readable output on stdout.

:mod:`~docret.cli.options` holds the options the commands share, :mod:`~docret.cli.commands`
the commands by subject (writing, searching, inspecting, evaluating, serving) and
:mod:`~docret.cli.render` what they print.
"""

from __future__ import annotations

import click

from docret import __version__
from docret.cli.commands.evaluate import evaluate
from docret.cli.commands.files import open_command
from docret.cli.commands.index import add, index, remove, retrain
from docret.cli.commands.inspect import check, info, map_command, words
from docret.cli.commands.search import explain, query, similar
from docret.cli.commands.serve import serve
from docret.cli.options import DB_OPTION_HELP
from docret.defaults import DATABASE

__all__ = ["cli"]

COMMANDS = (
    index,
    add,
    remove,
    retrain,
    query,
    similar,
    explain,
    open_command,
    words,
    map_command,
    info,
    evaluate,
    check,
    serve,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docret")
@click.option(
    "-d",
    "--database",
    default=DATABASE,
    show_default=True,
    envvar="DOCRET_DB",
    type=click.Path(dir_okay=False),
    help=DB_OPTION_HELP,
)
@click.pass_context
def cli(ctx: click.Context, database: str) -> None:
    """Semantic search over your own documents, with codes learned from the corpus itself.

    \b
    docret index corpora/sample
    docret query "engine failure on takeoff"
    docret query "engine failure on takeoff" --compare
    """
    ctx.obj = {"database": database}


for _command in COMMANDS:
    cli.add_command(_command)
