"""Options the commands share, and the checks that turn a bad value into a usage error.

Model settings take their defaults, help and bounds from :mod:`docret.defaults`, where the
Python API checks them too, so a bad value is refused (exit code 2, naming the option) before
anything is read. Nothing here imports numpy: ``docret --help`` builds every option.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from docret.defaults import (
    ACTIVATIONS,
    DATABASE,
    DEFAULTS,
    FIRST_LAYER_STARTS,
    LIMIT,
    Defaults,
    check_setting,
    check_settings,
)
from docret.errors import DocretError, FilterError, SettingError
from docret.filters import Filters
from docret.rank import METHODS, help_text

DB_OPTION_HELP = "SQLite file of the index (env: DOCRET_DB)"
IMAGE_SUFFIXES = (".png", ".pdf", ".svg")  # what map and evaluate --plot can write

# -- ranking methods: the --method choice and the titles tables give them, from the registry ---
METHOD_OPTION = click.option("--method", type=click.Choice(tuple(METHODS)), help=help_text())


def method_title(method: str | None, default: str) -> str:
    """The title of the ranking ``method`` (None: the default, titled ``default``, the
    index's own :meth:`~docret.index.Index.default_ranking`)."""
    return METHODS[method or "default"].title or default


# -- model settings ---------------------------------------------------------------------------
def _number(value: str) -> int | float:
    """``2`` -> 2 (a document count), ``0.5`` -> 0.5 (a fraction), as scikit-learn reads them."""
    try:
        return int(value)
    except ValueError:
        return float(value)


def _layer_sizes(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("give widths separated by commas, e.g. 500,250,125") from None
    if not sizes or any(s < 1 for s in sizes):
        raise click.BadParameter("widths must be positive integers, e.g. 500,250,125")
    return _bounded(ctx, param, sizes)


def _df(ctx: click.Context, param: click.Parameter, value: str) -> int | float:
    expected = "a document count of at least 1 (e.g. 2) or a fraction from 0 to 1 (e.g. 0.5)"
    try:
        number = _number(value)
    except ValueError:
        raise click.BadParameter(expected) from None
    count_ok = isinstance(number, int) and number >= 1
    fraction_ok = isinstance(number, float) and 0.0 <= number <= 1.0
    if not (count_ok or fraction_ok):
        raise click.BadParameter(expected)
    return _bounded(ctx, param, number)


def _bounded(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A model setting checked against its bounds in docret.defaults, where the Python API
    checks it too: NaN, infinities and absurd sizes are refused before anything is read."""
    return _within_bounds(str(param.name), value)


def _within_bounds(name: str, value: Any) -> Any:
    """``value`` of the setting ``name`` if within its bounds; else a bad option (exit 2)."""
    try:
        return check_setting(name, value)
    except SettingError as e:
        raise click.BadParameter(str(e)) from None


@contextlib.contextmanager
def settings_as_options() -> Iterator[None]:
    """A :class:`~docret.errors.SettingError` raised inside (settings that do not fit
    together, such as a vocabulary no wider than the code), as a bad option (exit 2) that
    names the option."""
    try:
        yield
    except SettingError as e:
        option = "'--" + e.setting.replace("_", "-") + "'"
        raise click.BadParameter(str(e), param_hint=option) from None


def settings_together(settings: dict[str, Any]) -> None:
    """Settings that must fit together, refused as a bad option before anything is read."""
    with settings_as_options():
        check_settings(settings)


def _device(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value == DEFAULTS.device:
        return value
    from docret.encoder import check_device

    try:
        return check_device(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


def _setting(name: str, *decls: str, **kwargs: Any) -> Callable:
    """A click option for the model setting ``name``: default and help from docret.defaults."""
    default = getattr(DEFAULTS, name)
    if name == "hidden":
        default = ",".join(map(str, default))
    elif name in ("min_df", "max_df"):
        default = str(default)
    flag = "--" + name.replace("_", "-")
    return click.option(
        *(decls or (flag,)),
        name,
        default=default,
        show_default=True,
        help=Defaults.help(name),
        **kwargs,
    )


_MODEL_OPTIONS = [
    _setting("code_size", type=int, callback=_bounded),
    _setting("hidden", callback=_layer_sizes),
    _setting("activation", type=click.Choice(ACTIVATIONS)),
    _setting("vocab_size", type=int, callback=_bounded),
    _setting("min_df", callback=_df),
    _setting("max_df", callback=_df),
    _setting("epochs", type=int, callback=_bounded),
    _setting("patience", type=int, callback=_bounded),
    _setting("batch_size", type=int, callback=_bounded),
    _setting("negatives", type=int, callback=_bounded),
    _setting("lr", type=float, callback=_bounded),
    _setting("noise", type=float, callback=_bounded),
    _setting("code_l2", type=float, callback=_bounded),
    _setting("pretrain", "--pretrain/--no-pretrain"),
    _setting("first_layer", type=click.Choice(FIRST_LAYER_STARTS)),
    _setting("query_fraction", type=float, callback=_bounded),
    _setting("lsa_dims", type=int, callback=_bounded),
    _setting("seed", type=int, callback=_bounded),
    _setting("device", callback=_device),
    _setting("threads", type=int, callback=_bounded),
]


def model_options(f: Callable) -> Callable:
    """The options that shape and train the model, shared by ``index``, ``retrain`` and
    ``evaluate``."""
    for option in reversed(_MODEL_OPTIONS):
        f = option(f)
    return f


def _bits(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """``--binary N``: 0 (float codes) or a code size within its bounds."""
    return _within_bounds("code_size", value) if value else value


BINARY_OPTION = click.option(
    "--binary",
    "binary_bits",
    type=click.IntRange(0),
    callback=_bits,
    help="Semantic hashing: learn binary codes of this many bits (replaces --code-size; "
    "0: float codes)",
)


def given_settings(
    ctx: click.Context, options: dict[str, Any], binary_bits: int | None
) -> dict[str, Any]:
    """The model settings the user typed (defaults left out), ``--binary N`` folded in."""
    given = {
        name: value
        for name, value in options.items()
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    }
    if binary_bits is not None:
        given["binary"] = bool(binary_bits)
        if binary_bits:
            given["code_size"] = binary_bits
    return given


# -- reading options: one block, applied to index and add --------------------------------------
_READER_OPTIONS = [
    click.option(
        "--text-field",
        "text_fields",
        multiple=True,
        help="JSON lines/CSV: field holding the text (repeatable: joined; default text)",
    ),
    click.option("--title-field", help="JSON lines/CSV: field holding the title (default title)"),
    click.option(
        "--id-field", help="JSON lines/CSV: field holding the id (default id; CSV: row number)"
    ),
    click.option(
        "--label-field", help="JSON lines/CSV: field holding the labels (default labels or label)"
    ),
    click.option(
        "--split",
        "split_by",
        type=click.Choice(["none", "pages"]),
        default="none",
        show_default=True,
        help="PDFs: one document per page, ids like paper.pdf#p3",
    ),
    click.option(
        "--follow-links",
        is_flag=True,
        help="Follow symbolic links that lead out of the folder (not followed by default)",
    ),
    click.option(
        "--strict",
        is_flag=True,
        help="Fail, writing nothing, if any file, message or line is skipped",
    ),
]


def reader_options(f: Callable) -> Callable:
    """The options of how files are read, passed to ``f`` as one ``read_options`` argument."""

    @functools.wraps(f)
    def wrapper(
        *args: Any,
        text_fields: tuple[str, ...],
        title_field: str | None,
        id_field: str | None,
        label_field: str | None,
        split_by: str,
        follow_links: bool,
        strict: bool,
        **kwargs: Any,
    ) -> Any:
        from docret.readers.base import ReadOptions

        options = ReadOptions(
            text_fields=tuple(text_fields),
            title_field=title_field,
            id_field=id_field,
            label_field=label_field,
            split_pages=split_by == "pages",
            follow_links=follow_links,
            strict=strict,
        )
        return f(*args, read_options=options, **kwargs)

    for option in reversed(_READER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def glob_patterns(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """``--glob`` patterns, an empty one refused before anything is read."""
    from docret.corpus import check_globs

    try:
        check_globs(value)
    except DocretError as e:
        raise click.BadParameter(str(e)) from None
    return value


def image_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A file name to draw into, checked before any work: matplotlib picks the format from
    the suffix, and fails only after the drawing."""
    if value is None:
        return None
    name = Path(value).name
    if not name or name.startswith(".") and not Path(name).suffix:
        raise click.BadParameter("give a file name, e.g. map.png")
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        raise click.BadParameter(
            f"{value!r}: the name must end in "
            + ", ".join(IMAGE_SUFFIXES[:-1])
            + f" or {IMAGE_SUFFIXES[-1]}"
        )
    return value


# -- filters: one block, applied to query -------------------------------------------------------
# Each option's parameter name and the filter it sets (Filters.parse's argument).
_FILTER_FIELDS = {
    "labels": "label",
    "kinds": "type",
    "paths": "path",
    "since": "since",
    "until": "until",
    "where": "where",
}


def _filter_value(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A filter option's value, checked as the query would read it: a usage error now."""
    if value is None or value == ():
        return value
    name = _FILTER_FIELDS[param.name or ""]
    try:
        Filters.parse(**{name: value})
    except FilterError as e:
        raise click.BadParameter(str(e).removeprefix(f"{name}: ")) from None
    return value


_FILTER_OPTIONS = [
    click.option(
        "--label",
        "labels",
        multiple=True,
        callback=_filter_value,
        help="Only documents with this label (repeatable: with all of them)",
    ),
    click.option(
        "--type",
        "kinds",
        multiple=True,
        callback=_filter_value,
        help="Only documents of this type: pdf, html, email, markdown, ... (repeatable: any)",
    ),
    click.option(
        "--path",
        "paths",
        multiple=True,
        callback=_filter_value,
        help="Only documents whose path matches: a glob ('docs/*.pdf', '**/2024/*') or a folder "
        "or file name ('docs', '/data/ann/docs') (repeatable: any)",
    ),
    click.option(
        "--since",
        metavar="DATE",
        callback=_filter_value,
        help="Only documents dated on or after DATE (YYYY-MM-DD, YYYY-MM or YYYY)",
    ),
    click.option(
        "--until",
        metavar="DATE",
        callback=_filter_value,
        help="Only documents dated on or before DATE (YYYY-MM-DD, YYYY-MM or YYYY)",
    ),
    click.option(
        "--where",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_filter_value,
        help="Only documents whose metadata field KEY is VALUE, e.g. author=Ann (repeatable: all)",
    ),
]


def filter_options(f: Callable) -> Callable:
    """The filter options, passed to ``f`` as one ``filters`` argument
    (:class:`~docret.filters.Filters`)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(option) for option, name in _FILTER_FIELDS.items()}
        return f(*args, filters=Filters.parse(**given), **kwargs)

    for option in reversed(_FILTER_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


# -- the database, output and result count ----------------------------------------------------
def _database_after(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.obj["database"] = value


def database_option(f: Callable) -> Callable:
    """``-d/--database`` after the command name too (``docret query foo -d x.db``)."""
    return click.option(
        "-d",
        "--database",
        expose_value=False,
        type=click.Path(dir_okay=False),
        callback=_database_after,
        help=f"{DB_OPTION_HELP}, as before the command [default: {DATABASE}]",
    )(f)


def json_option(what: str = "JSON instead of a table") -> Callable:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what}")


def limit_option(default: int = LIMIT) -> Callable:
    """``-k/--limit``: how many results."""
    return click.option(
        "-k",
        "--limit",
        "k",
        default=default,
        show_default=True,
        type=click.IntRange(1),
        help="How many results",
    )
