"""The rankings an index offers, by name: one registry that ``Index.query``, the CLI, the
server, :mod:`docret.evaluate` and the benchmarks all read.

Each :class:`Method` names its ranker, a function ``(state, texts, k, rerank, allowed) ->
list[Scored]`` in a module of this package, imported only when a query runs: this module
imports nothing heavier than the standard library, so ``docret --help`` stays fast.
``allowed`` (a boolean mask over the rows, or None) is a filter: every ranker ranks and lists
those rows only, their scores unchanged (:mod:`docret.search` makes it).

- ``default``: BM25 fused with the code and LSA cosines (:mod:`docret.rank.default`);
- ``codes``, ``hybrid``: the learned codes (:mod:`docret.rank.codes`);
- ``bm25``, ``tfidf``: the words alone (:mod:`docret.rank.lexical`);
- ``lsa``: latent semantic analysis (:mod:`docret.rank.lsa`);
- ``likelihood``: the decoder's likelihood of the query's words (:mod:`docret.rank.likelihood`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from docret.errors import QueryError

__all__ = ["METHODS", "Method", "checked", "help_text", "method_name", "offered", "ranker", "run"]


@dataclass(frozen=True)
class Method:
    """A ranking method: its name, how the CLI's tables and the server's menus title it,
    its help, its ranker (``"module:function"``) and what an index needs to offer it."""

    name: str
    title: str  # a column title ("Learned codes")
    menu: str  # a menu entry ("learned codes")
    help: str  # one clause of ``--method``'s help
    ranker: str
    float_codes: bool = False  # a binary index does not offer it
    lsa: bool = False  # an index without LSA directions does not offer it


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "default",
            "",  # titled by the index: Index.default_ranking says which scores weigh in it
            "default ranking",
            "BM25 fused with the learned codes and LSA at the weights chosen when the index "
            "was built, then again with feedback from its top documents",
            "docret.rank.default:default",
        ),
        Method(
            "codes",
            "Learned codes",
            "learned codes",
            "the codes alone",
            "docret.rank.codes:codes",
        ),
        Method(
            "hybrid",
            "Learned codes + tf-idf",
            "codes + tf-idf",
            "code cosine + tf-idf cosine",
            "docret.rank.codes:hybrid",
            float_codes=True,
        ),
        Method("bm25", "BM25", "BM25", "BM25 of the words alone", "docret.rank.lexical:bm25"),
        Method(
            "tfidf",
            "tf-idf cosine",
            "tf-idf cosine",
            "tf-idf cosine of the words alone",
            "docret.rank.lexical:tfidf",
        ),
        Method("lsa", "LSA", "LSA", "LSA cosine alone", "docret.rank.lsa:lsa", lsa=True),
        Method(
            "likelihood",
            "Learned codes by likelihood",
            "codes by likelihood",
            "the codes alone by how likely each document's decoded code makes the query's "
            "words, with some of the code cosine",
            "docret.rank.likelihood:likelihood",
        ),
    )
}


def method_name(method: str | None, hybrid: bool = False) -> str:
    """The ranking a query asks for: ``method`` (None is the default) or ``hybrid=True``;
    raises ValueError for an unknown name."""
    if hybrid and method not in (None, "hybrid"):
        raise ValueError(f"hybrid=True contradicts method={method!r}")
    name = "hybrid" if hybrid else method or "default"
    if name not in METHODS:
        raise ValueError(f"Unknown ranking method {name!r}; choose one of {', '.join(METHODS)}")
    return name


def ranker(name: str) -> Callable[..., list[Any]]:
    """The ranker function of method ``name``, imported now."""
    module, _, function = METHODS[name].ranker.partition(":")
    return getattr(import_module(module), function)


def offered(state: Any) -> list[str]:
    """The methods an index (its loaded ``state``) offers, the default first: a binary index
    has no float codes for the hybrid; LSA needs the directions an index keeps unless built
    with ``--lsa-dims 0``."""
    binary, has_lsa = state.bits is not None, state.lsa is not None
    return [
        m.name
        for m in METHODS.values()
        if not (m.float_codes and binary) and not (m.lsa and not has_lsa)
    ]


def run(
    state: Any,
    texts: Sequence[str],
    k: int,
    rerank: int | None = None,
    *,
    method: str | None = None,
    hybrid: bool = False,
    allowed: Any = None,
) -> list[Any]:
    """The :class:`~docret.rank.base.Scored` answers of ``texts`` by ``method`` (None: the
    default; ``hybrid=True``: "hybrid") over ``state``, among the ``allowed`` rows only where
    given (a boolean mask); raises :class:`~docret.errors.QueryError` for an unknown method
    or ``rerank`` on float codes."""
    return ranker(checked(state, rerank, method, hybrid))(state, texts, k, rerank, allowed)


def checked(state: Any, rerank: int | None, method: str | None, hybrid: bool) -> str:
    """The name of the method a query asks for (:func:`method_name`); raises
    :class:`~docret.errors.QueryError` for an unknown method or ``rerank`` on float codes."""
    if rerank and state.bits is None:
        raise QueryError(
            "Re-ranking (--rerank) applies to binary codes (an index built with --binary "
            "N); this index has float codes, ranked by cosine already"
        )
    try:
        return method_name(method, hybrid)
    except ValueError as e:
        raise QueryError(str(e)) from None


def help_text() -> str:
    """``--method``'s help, a clause per method."""
    return "Ranking: " + "; ".join(f"{m.name} = {m.help}" for m in METHODS.values())
