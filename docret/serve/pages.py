"""The HTML pages: search, compare, a document, the map and what the index holds.

Pages are rendered on the server (:mod:`docret.serve.render`); the map is drawn in the browser
by ``static/map.js`` from ``/api/map``. Each route parses its parameters, calls
:mod:`docret.serve.logic` on the served index's thread and renders a template.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from docret.serve import logic
from docret.serve.deps import Served
from docret.serve.logic import MAX_K, PAGE
from docret.serve.render import loss_chart, render, render_form

router = APIRouter(include_in_schema=False)


Values = Annotated[list[str] | None, Query()]  # a filter given any number of times


def page_filters(
    label: Values = None,
    type: Values = None,  # noqa: A002 - the name docret query's option has
    path: Values = None,
    since: Values = None,
    until: Values = None,
    where: Values = None,
) -> dict[str, list[str]]:
    """The filters of a page's query string, each a list of the values given (none: [])."""
    given = {"label": label, "type": type, "path": path, "since": since, "until": until}
    return {name: values or [] for name, values in (given | {"where": where}).items()}


Filters = Annotated[dict[str, list[str]], Depends(page_filters)]


@router.get("/", response_class=HTMLResponse)
async def search_page(
    served: Served,
    given: Filters,
    q: str = "",
    k: int = Query(PAGE, ge=1, le=MAX_K),
    method: str | None = None,
    explain: bool = False,
):
    """The search form and, for a query, its hits (with a link to more and facets), among
    the documents its filters let through."""
    context = await served.run(logic.search_context, q, k, method, explain, given)
    return render_form("search.html", context)


@router.get("/compare", response_class=HTMLResponse)
async def compare_page(
    served: Served,
    given: Filters,
    q: str = "",
    k: int = Query(PAGE, ge=1, le=MAX_K),
    method: str | None = None,
):
    """A ranking beside its baseline, hits found by both marked (under the search's filters)."""
    context = await served.run(logic.compare_context, q, k, method, given)
    return render_form("compare.html", context)


@router.get("/documents/{doc_id:path}", response_class=HTMLResponse)
async def document_page(served: Served, doc_id: str, q: str = ""):
    """A stored document with its metadata, its words and the documents most like it; with
    ``q``, the query's words marked and the passage its hit shows scrolled to."""
    context = await served.run(logic.document_context, doc_id, q)
    return render("document.html", q=q, **context)


@router.get("/map", response_class=HTMLResponse)
async def map_page(q: str = ""):
    """The map's page (``static/map.js`` draws it from ``/api/map``)."""
    return render("map.html", q=q)


@router.get("/info", response_class=HTMLResponse)
async def info_page(served: Served):
    """What the index holds, how its default ranking was chosen and its training curve."""
    info = await served.run(logic.run_info)
    return render("info.html", q="", info=info, chart=loss_chart(info["history"]))
