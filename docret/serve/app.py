"""The web application: HTML pages and a JSON API over one :class:`~docret.index.Index`.

Pages are rendered on the server (Jinja2, every value escaped); the map is drawn in the browser
by ``static/map.js`` from ``/api/map``. Every call on the index goes through
:class:`~docret.serve.state.ServedIndex`, which keeps it current and runs reads on a few
threads, writes on one. :mod:`docret.serve.guard` decides which requests are answered at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from docret import __version__, originals
from docret.errors import DocretError, QueryError, UnknownDocumentError
from docret.index import Hit, Index
from docret.serve import adapter, models
from docret.serve.guard import GuardMiddleware, host_names
from docret.serve.limits import LimitsMiddleware, is_api
from docret.serve.state import READERS, RETRY_AFTER, ServedIndex, Unavailable

MAX_K = 1000
MAX_EXPLAIN_K = 50  # each explained hit costs about 20 ms
MAX_UNKNOWN_SHOWN = 20  # unknown words echoed, the rest counted
PAGE = 10  # hits per "more"
MAP_MAX_POINTS = 20_000  # beyond this the map gets a seeded sample plus a density grid
DENSITY_BINS = 160
STATIC = Path(__file__).parent / "static"
READ_ONLY = "This server is read-only: start it with 'docret serve --allow-writes' to add or remove"
# An original file is shown as it is, but never as a page of this server's origin: an indexed
# HTML file runs no script and reaches nothing here (CSP sandbox), and no type is guessed.
ORIGINAL_FILE_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

ERRORS = {
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


def status_of(error: Exception) -> int:
    """The HTTP status of an expected error."""
    if isinstance(error, UnknownDocumentError):
        return 404
    if isinstance(error, Unavailable):
        return 503
    return 400


def hit_rows(hits: list[Hit]) -> list[dict[str, Any]]:
    """Hits as the CLI's ``--json`` prints them, with their rank."""
    return [{"rank": r, **h.to_dict()} for r, h in enumerate(hits, start=1)]


def words_rows(words: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Word weights as the CLI's ``--json`` prints them."""
    return [{"word": w, "weight": round(x, 6)} for w, x in words]


def doc_url(doc_id: str) -> str:
    """The document page of ``doc_id``: every character outside [A-Za-z0-9_.-~] escaped."""
    return "/documents/" + quote(doc_id, safe="")


def file_url(doc_id: str) -> str:
    """Where the original file of ``doc_id`` is served, escaped as :func:`doc_url`."""
    return "/file/" + quote(doc_id, safe="")


# -- what the endpoints compute (run in the index's thread) ---------------------------------
def shown_unknown(words: list[str]) -> dict[str, Any]:
    """The first :data:`MAX_UNKNOWN_SHOWN` unknown words (each already cut short by
    :meth:`~docret.index.Index.unknown_words`) and how many there are in all."""
    return {"unknown_words": words[:MAX_UNKNOWN_SHOWN], "unknown_count": len(words)}


def check_explain(k: int, explain: bool) -> None:
    """Raise :class:`QueryError` when explaining more hits than :data:`MAX_EXPLAIN_K`."""
    if explain and k > MAX_EXPLAIN_K:
        raise QueryError(f"With explain, k is at most {MAX_EXPLAIN_K} (asked for {k:,})")


def run_query(index: Index, text: str, k: int, method: str | None, explain: bool) -> dict[str, Any]:
    check_explain(k, explain)
    hits = adapter.query(index, text, k, method)
    rows = hit_rows(hits)
    if explain:
        for row in rows:
            row["shared_words"] = [w for w, _ in index.shared_words(text, row["id"])]
    offered = adapter.methods(index)
    return {
        "query": text,
        "method": method or offered[0],
        "methods": offered,
        "k": k,
        "hits": rows,
        "matched": hits.matched,
        **shown_unknown(adapter.unknown_words(index, text)),
        "query_words": [w for w, _ in index.explain(text, 10)] if explain else None,
    }


def run_compare(index: Index, text: str, k: int, method: str | None) -> dict[str, Any]:
    """``query --compare --json``: ``methods`` [method, baseline], each one's hits under its
    name (with ``rank`` and ``in_both``), ``both``; plus the unknown words."""
    adapter.check_method(index, method)
    result = index.compare(text, k, method=method).to_dict()
    for name in result["methods"]:
        result[name] = [{"rank": r, **h} for r, h in enumerate(result[name], start=1)]
    return {"query": text, **result, **shown_unknown(adapter.unknown_words(index, text))}


def run_document(index: Index, doc_id: str) -> dict[str, Any]:
    d = index.document(doc_id)
    return {
        "id": d.id,
        "title": d.title,
        "text": d.text,
        "labels": list(d.labels),
        "path": d.path,
        "split": d.split,
    }


def map_payload(points: adapter.MapPoints) -> dict[str, Any]:
    """All documents for the map; past :data:`MAP_MAX_POINTS`, a sample and a density grid."""
    n = len(points.ids)
    counts: dict[str, int] = {}
    for label in points.labels:
        if label is not None:
            counts[label] = counts.get(label, 0) + 1
    legend = sorted(counts, key=lambda k: (-counts[k], k))
    position = {label: i for i, label in enumerate(legend)}
    xy = points.xy.astype(np.float64)
    lo = xy.min(axis=0) if n else np.zeros(2)
    hi = xy.max(axis=0) if n else np.ones(2)
    hi = np.where(hi > lo, hi, lo + 1.0)
    density = None
    rows = np.arange(n)
    if n > MAP_MAX_POINTS:
        grid, _, _ = np.histogram2d(
            xy[:, 1], xy[:, 0], bins=DENSITY_BINS, range=[[lo[1], hi[1]], [lo[0], hi[0]]]
        )
        density = {"bins": DENSITY_BINS, "counts": grid.astype(int).ravel().tolist()}
        rows = np.sort(np.random.default_rng(0).choice(n, MAP_MAX_POINTS, replace=False))
    return {
        "count": n,
        "shown": len(rows),
        "x0": float(lo[0]),
        "x1": float(hi[0]),
        "y0": float(lo[1]),
        "y1": float(hi[1]),
        "ids": [points.ids[i] for i in rows],
        "x": np.round(xy[rows, 0], 5).tolist(),
        "y": np.round(xy[rows, 1], 5).tolist(),
        "titles": [points.titles[i][:120] for i in rows],
        "label": [position.get(points.labels[i], -1) for i in rows],
        "legend": [{"label": label, "count": counts[label]} for label in legend],
        "density": density,
        "hits": None,
    }


def map_hits(
    index: Index,
    points: adapter.MapPoints,
    legend: list[dict],
    text: str,
    k: int,
    method: str | None = None,
) -> list[dict[str, Any]]:
    """The query's hits with their places on the map (sampled out or not)."""
    row = {doc_id: i for i, doc_id in enumerate(points.ids)}
    position = {item["label"]: i for i, item in enumerate(legend)}
    return [
        {
            "rank": r,
            "id": h.id,
            "title": h.title,
            "x": round(float(points.xy[row[h.id], 0]), 5),
            "y": round(float(points.xy[row[h.id], 1]), 5),
            "label": position.get(points.labels[row[h.id]], -1),
        }
        for r, h in enumerate(adapter.query(index, text, k, method), start=1)
        if h.id in row
    ]


def run_info(index: Index) -> dict[str, Any]:
    return {
        **index.info(),
        "history": adapter.history(index),
        "methods": adapter.methods(index),
    }


def run_add(index: Index, documents: list[dict[str, Any]], replace: bool) -> dict[str, Any]:
    return index.add_texts(documents, replace=replace).to_dict()


# -- the application ------------------------------------------------------------------------
def create_app(
    db: str | Path,
    *,
    allow_writes: bool = False,
    allowed_hosts: Iterable[str] = (),
    bound: str | None = None,
    token: str | None = None,
    readers: int = READERS,
) -> FastAPI:
    """The web application over the index in ``db`` (opened on first use, reopened on change).

    It answers requests whose Host is a loopback name, ``bound`` (the address it listens on)
    or one of ``allowed_hosts``; with ``token``, only requests that carry it (see
    :mod:`docret.serve.guard`). Reads run on ``readers`` threads.
    """
    served = ServedIndex(db, readers=readers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        served.close()

    app = FastAPI(
        title="docret",
        version=__version__,
        description="Semantic search over your own documents: the JSON API of `docret serve`.",
        docs_url=None,  # FastAPI's interactive docs pages load their scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.served = served
    app.add_middleware(GuardMiddleware, hosts=host_names(bound, allowed_hosts), token=token)
    # Outermost: its headers go on the guard's answers too. A page's 413 is a page (rendered
    # when the request comes, by error_page below).
    app.add_middleware(LimitsMiddleware, page=lambda *e: error_page(*e).body.decode())
    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's description, less the 422 it lists everywhere: invalid input is a 400."""
        if app.openapi_schema is None:
            schema = original_openapi()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    pages = Environment(
        loader=PackageLoader("docret.serve", "templates"),
        autoescape=select_autoescape(["html"], default=True),
    )
    pages.filters["doc_url"] = doc_url
    pages.filters["file_url"] = file_url
    pages.globals["version"] = __version__

    def render(name: str, code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("nav", name.removesuffix(".html"))
        return HTMLResponse(pages.get_template(name).render(**context), status_code=code)

    def error_response(
        request: Request, status: int, message: str, retry_after: int | None = None
    ) -> Any:
        if is_api(request.url.path):
            response: Any = JSONResponse({"error": message}, status_code=status)
        else:
            response = error_page(status, message, request.query_params.get("q", ""), retry_after)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def error_page(status: int, message: str, q: str = "", retry_after: int | None = None):
        """The HTML error page: the query kept in the box, a reload after ``retry_after``."""
        return render(
            "error.html", status, status=status, message=message, q=q, retry_after=retry_after
        )

    async def read_only(doc_id: str = ""):
        """Without --allow-writes: a 405 that says why, rather than a bare 404."""
        raise StarletteHTTPException(405, READ_ONLY)

    @app.exception_handler(DocretError)
    async def docret_error(request: Request, e: DocretError):
        return error_response(request, status_of(e), str(e))

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, e: Unavailable):
        return error_response(request, 503, str(e), retry_after=RETRY_AFTER)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError):
        return error_response(request, 400, validation_message(e))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException):
        if e.status_code != 405:
            return error_response(request, e.status_code, str(e.detail or "Error"))
        response = error_response(request, 405, str(e.detail))
        # Allow: every method of every route at this path (Starlette names only the first's)
        path = request.scope["path"]
        allowed = {
            m
            for route in _flat(app.routes)
            if getattr(route, "methods", None) and route.path_regex.match(path)
            if getattr(route, "endpoint", None) is not read_only
            for m in route.methods
        }
        response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    api = APIRouter(prefix="/api", responses=ERRORS)

    @api.get("/query", response_model=models.QueryOut, response_model_exclude_none=True)
    async def api_query(
        q: str = Query(..., max_length=models.MAX_QUERY_CHARS, description="The query text"),
        k: int = K,
        method: str | None = Query(None, description="Ranking method (see /api/info)"),
        explain: bool = Query(False, description="Add each hit's shared words"),
    ):
        """Rank documents for a query, as ``docret query --json``."""
        return await served.run(run_query, q, k, method, explain)

    @api.post("/query", response_model=models.QueryOut, response_model_exclude_none=True)
    async def api_query_body(body: models.QueryIn):
        """The same as GET, for queries too long for a URL."""
        return await served.run(run_query, body.q, body.k, body.method, body.explain)

    @api.get("/compare", response_model=models.CompareOut, response_model_exclude_none=True)
    async def api_compare(
        q: str = Query(..., max_length=models.MAX_QUERY_CHARS),
        k: int = K,
        method: str | None = Query(None, description="Ranking shown beside its baseline"),
    ):
        """A ranking beside its baseline, as ``docret query --compare --json``."""
        return await served.run(run_compare, q, k, method)

    @api.get(
        "/similar/{doc_id:path}",
        response_model=models.SimilarOut,
        response_model_exclude_none=True,
    )
    async def api_similar(doc_id: str, k: int = K):
        """Documents like a stored one, as ``docret similar --json``."""
        hits = await served.run(Index.similar, doc_id, k)
        return {"id": doc_id, "hits": hit_rows(hits)}

    @api.get("/documents/{doc_id:path}", response_model=models.DocumentOut)
    async def api_document(doc_id: str):
        """A stored document: its full text and labels."""
        return await served.run(run_document, doc_id)

    @api.get("/explain", response_model=models.ExplainOut, response_model_exclude_none=True)
    async def api_explain(
        q: str = Query(..., max_length=models.MAX_QUERY_CHARS),
        k: int = WORDS_K,
        id: str | None = Query(None, description="With an id: the words both codes share"),
    ):
        """The words a query's code stands for (``docret explain --json``), or with ``id`` the
        words it shares with that document's code (``query --explain``)."""
        if id is None:
            words = await served.run(Index.explain, q, k)
        else:
            words = await served.run(Index.shared_words, q, id, k)
        return {"query": q, "id": id, "words": words_rows(words)}

    @api.get("/words/{doc_id:path}", response_model=models.WordsOut)
    async def api_words(doc_id: str, k: int = WORDS_K):
        """The words a stored document's code stands for, as ``docret words --json``."""
        return {"id": doc_id, "words": words_rows(await served.run(Index.words, doc_id, k))}

    @api.get("/map", response_model=models.MapOut)
    async def api_map(
        q: str | None = Query(
            None, max_length=models.MAX_QUERY_CHARS, description="Also place this query's hits"
        ),
        k: int = Query(50, ge=1, le=MAX_K, description="How many hits to place"),
        method: str | None = Query(None, description="Ranking method of the hits"),
    ):
        """Every document in 2-D: the codes on their first two principal components."""

        def compute(index: Index) -> dict[str, Any]:
            points = served.cached("points", adapter.map_points, index)
            payload = served.cached("map", lambda _: map_payload(points), index)
            if q is None:
                return payload
            hits = map_hits(index, points, payload["legend"], q, k, method)
            return {**payload, "hits": hits}

        return await served.run(compute)

    @api.get("/info")
    async def api_info() -> dict[str, Any]:
        """What ``docret info --json`` shows, plus the training curve and ranking methods."""
        return await served.run(run_info)

    if allow_writes:

        @api.post("/documents", response_model=models.AddOut)
        async def api_add(body: models.AddIn):
            """Add or update text documents with the stored model, as ``docret add``."""
            documents = [d.model_dump(exclude_none=True) for d in body.documents]
            return await served.run(run_add, documents, body.replace, writes=True)

        @api.delete("/documents/{doc_id:path}", response_model=models.RemoveOut)
        async def api_remove(doc_id: str):
            """Remove a document, as ``docret remove``."""
            return {"removed": await served.run(Index.remove, [doc_id], writes=True)}

    else:
        api.post("/documents", include_in_schema=False)(read_only)
        api.delete("/documents/{doc_id:path}", include_in_schema=False)(read_only)
    app.include_router(api)

    # -- pages --------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def search_page(
        q: str = "",
        k: int = Query(PAGE, ge=1, le=MAX_K),
        method: str | None = None,
        explain: bool = False,
    ):
        offered = await served.run(adapter.methods)
        context: dict[str, Any] = {
            "q": q,
            "k": k,
            "method": method or "",
            "explain": explain,
            "methods": [(m, adapter.METHOD_NAMES.get(m, m)) for m in offered],
            "result": None,
            "error": None,
            "more_url": None,
        }
        if q.strip():
            try:
                context["result"] = await served.run(run_query, q, k, method or None, explain)
            except QueryError as e:
                context["error"] = str(e)
            else:
                most = MAX_EXPLAIN_K if explain else MAX_K
                if len(context["result"]["hits"]) == k and k < most:
                    params = {"q": q, "k": min(k + PAGE, most)}
                    if method:
                        params["method"] = method
                    if explain:
                        params["explain"] = "true"
                    context["more_url"] = f"/?{urlencode(params)}#hit-{k + 1}"
        return render("search.html", 400 if context["error"] else 200, **context)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    async def compare_page(
        q: str = "", k: int = Query(PAGE, ge=1, le=MAX_K), method: str | None = None
    ):
        offered = await served.run(adapter.methods)
        result, error = None, None
        if q.strip():
            try:
                result = await served.run(run_compare, q, k, method or None)
            except QueryError as e:
                error = str(e)
        return render(
            "compare.html",
            400 if error else 200,
            q=q,
            k=k,
            method=method or "",
            methods=[(m, adapter.METHOD_NAMES.get(m, m)) for m in offered],
            names=adapter.METHOD_NAMES,
            result=result,
            error=error,
        )

    @app.get("/documents/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    async def document_page(doc_id: str, q: str = ""):
        def gather(index: Index) -> dict[str, Any]:
            return {
                "doc": run_document(index, doc_id),
                "metadata": index.document(doc_id).metadata,
                "has_file": originals.original_file(index, doc_id) is not None,
                "words": index.words(doc_id, 15),
                "similar": hit_rows(index.similar(doc_id, PAGE)),
            }

        return render("document.html", q=q, **(await served.run(gather)))

    @app.get("/file/{doc_id:path}", include_in_schema=False)
    async def original_file_page(doc_id: str):
        """The file a document was read from, read-only, when it may be served
        (:func:`docret.originals.original_file`); 404 otherwise."""
        path = await served.run(originals.original_file, doc_id)
        if path is None:
            raise StarletteHTTPException(404, f"Document {doc_id!r} has no original file to open")
        return FileResponse(
            path,
            filename=path.name,
            content_disposition_type="inline",
            headers=ORIGINAL_FILE_HEADERS,
        )

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    async def map_page(q: str = ""):
        return render("map.html", q=q)

    @app.get("/info", response_class=HTMLResponse, include_in_schema=False)
    async def info_page():
        info = await served.run(run_info)
        return render("info.html", q="", info=info, chart=loss_chart(info["history"]))

    return app


def _flat(routes: list) -> list:
    """Routes with included routers opened up (newer FastAPI keeps them wrapped)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out.extend(_flat(inner.routes) if inner is not None else [route])
    return out


def validation_message(e: RequestValidationError) -> str:
    """One line for the first invalid parameter, as click words a bad option."""
    first = e.errors()[0] if e.errors() else {}
    if first.get("type") == "missing" and tuple(first.get("loc", ())) == ("body",):
        return "Invalid JSON body: the request has none"
    if first.get("type") == "json_invalid":
        reason = (first.get("ctx") or {}).get("error") or first.get("msg", "not JSON")
        return f"Invalid JSON body: {reason}"
    where = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
    name = ".".join(where) or "request"
    return f"Invalid value for {name}: {first.get('msg', 'invalid')}"


def loss_chart(history: list[dict[str, Any]], width: int = 560, height: int = 200) -> dict:
    """Polylines (SVG coordinates) of the loss and held-out loss per epoch."""
    pad_left, pad_right, pad_top, pad_bottom = 56, 16, 12, 28
    series = {
        name: [(h["epoch"], h[name]) for h in history if h.get(name) is not None]
        for name in ("loss", "val_loss")
    }
    values = [v for points in series.values() for _, v in points]
    epochs = [e for points in series.values() for e, _ in points]
    if not values:
        return {"width": width, "height": height, "lines": [], "ticks": []}
    lo, hi = min(values), max(values)
    hi = hi if hi > lo else lo + 1e-9
    e0, e1 = min(epochs), max(epochs)
    e1 = e1 if e1 > e0 else e0 + 1

    def x(epoch: float) -> float:
        return pad_left + (epoch - e0) / (e1 - e0) * (width - pad_left - pad_right)

    def y(value: float) -> float:
        return pad_top + (hi - value) / (hi - lo) * (height - pad_top - pad_bottom)

    lines = [
        {
            "name": {"loss": "training loss", "val_loss": "held-out loss"}[name],
            "css": name.replace("_", "-"),
            "points": " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in points),
            "dots": [(round(x(e), 1), round(y(v), 1)) for e, v in points],
        }
        for name, points in series.items()
        if points
    ]
    ticks = [{"y": round(y(v), 1), "label": f"{v:.3f}"} for v in np.linspace(lo, hi, 4).tolist()]
    xticks = sorted({e0, e1, (e0 + e1) // 2})
    return {
        "width": width,
        "height": height,
        "lines": lines,
        "ticks": ticks,
        "xticks": [{"x": round(x(e), 1), "label": str(e)} for e in xticks],
        "left": pad_left,
        "bottom": height - pad_bottom,
        "right": width - pad_right,
    }
