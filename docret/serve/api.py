"""The JSON API under ``/api/``: what the CLI's ``--json`` prints, one route per command.

:data:`reads` holds the reads; :data:`writes` adds and removes documents (with
``--allow-writes``), :data:`writes_refused` answers the same paths with a 405 that says why.
Each route parses its parameters, calls :mod:`docret.serve.logic` on the served index's
thread and returns what its response model renders.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from docret.index import Index
from docret.serve import handlers, logic, models
from docret.serve.deps import Served
from docret.serve.logic import MAX_K

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.Error, "description": "Bad query, parameter, body or Host header"},
    401: {"model": models.Error, "description": "Missing or wrong token (with --token)"},
    403: {"model": models.Error, "description": "A write from another origin"},
    404: {"model": models.Error, "description": "Unknown document id"},
    413: {"model": models.Error, "description": "Request too large"},
    415: {"model": models.Error, "description": "A body that is not application/json"},
    503: {"model": models.Error, "description": "Database unavailable (being rebuilt)"},
}
K = Query(10, ge=1, le=MAX_K, description="How many results")
WORDS_K = Query(15, ge=1, le=MAX_K, description="How many words")


def filter_params(
    label: Annotated[
        list[str] | None, Query(description="Only documents with this label (all given)")
    ] = None,
    type: Annotated[  # noqa: A002 - the name docret query's option has
        list[str] | None, Query(description="Only documents of this type (any given)")
    ] = None,
    path: Annotated[
        list[str] | None,
        Query(description="Only documents whose path matches: a glob or a folder (any given)"),
    ] = None,
    since: Annotated[
        str | None, Query(description="Only documents dated on or after (ISO date, YYYY-MM, YYYY)")
    ] = None,
    until: Annotated[
        str | None, Query(description="Only documents dated on or before (ISO date, YYYY-MM, YYYY)")
    ] = None,
    where: Annotated[
        list[str] | None, Query(description="Only documents whose KEY=VALUE (all given)")
    ] = None,
) -> dict[str, Any]:
    """The filter parameters of a search, as :meth:`docret.filters.Filters.of` reads them."""
    lists = {"label": label, "type": type, "path": path, "where": where}
    return {name: values or [] for name, values in lists.items()} | {"since": since, "until": until}


FilterParams = Annotated[dict[str, Any], Depends(filter_params)]

reads = APIRouter(prefix="/api", responses=ERRORS)
writes = APIRouter(prefix="/api", responses=ERRORS)
writes_refused = APIRouter(prefix="/api", responses=ERRORS)


@reads.get("/query", response_model=models.QueryOut, response_model_exclude_none=True)
async def api_query(
    served: Served,
    filters: FilterParams,
    q: str = Query(..., max_length=models.MAX_QUERY_CHARS, description="The query text"),
    k: int = K,
    method: str | None = Query(None, description="Ranking method (see /api/info)"),
    explain: bool = Query(False, description="Add each hit's shared words"),
    facets: bool = Query(False, description="Count the matched documents by type and folder"),
):
    """Rank documents for a query, as ``docret query --json`` (with its filters)."""
    return await served.run(logic.run_query, q, k, method, explain, filters, facets)


@reads.post("/query", response_model=models.QueryOut, response_model_exclude_none=True)
async def api_query_body(served: Served, body: models.QueryIn):
    """The same as GET, for queries too long for a URL."""
    return await served.run(
        logic.run_query, body.q, body.k, body.method, body.explain, body.filters(), body.facets
    )


@reads.get("/compare", response_model=models.CompareOut, response_model_exclude_none=True)
async def api_compare(
    served: Served,
    filters: FilterParams,
    q: str = Query(..., max_length=models.MAX_QUERY_CHARS),
    k: int = K,
    method: str | None = Query(None, description="Ranking shown beside its baseline"),
):
    """A ranking beside its baseline, as ``docret query --compare --json``."""
    return await served.run(logic.run_compare, q, k, method, filters)


@reads.get(
    "/similar/{doc_id:path}",
    response_model=models.SimilarOut,
    response_model_exclude_none=True,
)
async def api_similar(served: Served, doc_id: str, k: int = K):
    """Documents like a stored one, as ``docret similar --json``."""
    return await served.run(logic.run_similar, doc_id, k)


@reads.get("/documents/{doc_id:path}", response_model=models.DocumentOut)
async def api_document(served: Served, doc_id: str):
    """A stored document: its full text and labels."""
    return await served.run(logic.run_document, doc_id)


@reads.get("/explain", response_model=models.ExplainOut, response_model_exclude_none=True)
async def api_explain(
    served: Served,
    q: str = Query(..., max_length=models.MAX_QUERY_CHARS),
    k: int = WORDS_K,
    id: str | None = Query(None, description="With an id: the words both codes share"),
):
    """The words a query's code stands for (``docret explain --json``), or with ``id`` the
    words it shares with that document's code (``query --explain``)."""
    return await served.run(logic.run_explain, q, k, id)


@reads.get("/words/{doc_id:path}", response_model=models.WordsOut)
async def api_words(served: Served, doc_id: str, k: int = WORDS_K):
    """The words a stored document's code stands for, as ``docret words --json``."""
    return await served.run(logic.run_words, doc_id, k)


@reads.get("/map", response_model=models.MapOut)
async def api_map(
    served: Served,
    q: str | None = Query(
        None, max_length=models.MAX_QUERY_CHARS, description="Also place this query's hits"
    ),
    k: int = Query(50, ge=1, le=MAX_K, description="How many hits to place"),
    method: str | None = Query(None, description="Ranking method of the hits"),
):
    """Every document in 2-D: the codes on their first two principal components."""
    return await served.run(logic.run_map, served, q, k, method)


@reads.get("/info")
async def api_info(served: Served) -> dict[str, Any]:
    """What ``docret info --json`` shows, plus the training curve and ranking methods."""
    return await served.run(logic.run_info)


@writes.post("/documents", response_model=models.AddOut)
async def api_add(served: Served, body: models.AddIn):
    """Add or update text documents with the stored model, as ``docret add``."""
    documents = [d.model_dump(exclude_none=True) for d in body.documents]
    return await served.run(logic.run_add, documents, body.replace, writes=True)


@writes.delete("/documents/{doc_id:path}", response_model=models.RemoveOut)
async def api_remove(served: Served, doc_id: str):
    """Remove a document, as ``docret remove``."""
    return {"removed": await served.run(Index.remove, [doc_id], writes=True)}


writes_refused.post("/documents", include_in_schema=False)(handlers.read_only)
writes_refused.delete("/documents/{doc_id:path}", include_in_schema=False)(handlers.read_only)
