"""The HTML side of the server: the page templates (Jinja2, every value escaped), the error
page and the training curve drawn as SVG."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from docret import __version__


def doc_url(doc_id: str) -> str:
    """The document page of ``doc_id``: every character outside [A-Za-z0-9_.-~] escaped."""
    return "/documents/" + quote(doc_id, safe="")


def file_url(doc_id: str) -> str:
    """Where the original file of ``doc_id`` is served, escaped as :func:`doc_url`."""
    return "/file/" + quote(doc_id, safe="")


def marked(
    text: str, spans: Iterable[Sequence[int]], passage: Sequence[int] | None = None
) -> Markup:
    """``text`` escaped, the characters of each (start, end) of ``spans`` in ``<mark>`` and
    those of ``passage`` (start, end) in ``<span id="passage">``: the snippet of the hit that
    linked here, scrolled to."""
    n = len(text)
    marks = sorted((max(0, int(s)), min(n, int(e))) for s, e in spans)
    start, end = (min(n, max(0, int(p))) for p in passage) if passage else (n, n)
    cuts = sorted({0, n, start, end, *(x for span in marks for x in span)})
    out, i = [], 0
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a == start < end:
            out.append(Markup('<span id="passage" class="passage">'))
        while i < len(marks) and marks[i][1] <= a:
            i += 1
        piece = escape(text[a:b])
        out.append(
            Markup("<mark>%s</mark>") % piece if i < len(marks) and marks[i][0] <= a else piece
        )
        if b == end > start:
            out.append(Markup("</span>"))
    return Markup("").join(out)


PAGES = Environment(
    loader=PackageLoader("docret.serve", "templates"),
    autoescape=select_autoescape(["html"], default=True),
)
PAGES.filters["doc_url"] = doc_url
PAGES.filters["file_url"] = file_url
PAGES.filters["marked"] = marked
PAGES.globals["version"] = __version__


def render(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    """The template ``name`` filled with ``context``, its tab marked in the navigation."""
    context.setdefault("nav", name.removesuffix(".html"))
    return HTMLResponse(PAGES.get_template(name).render(**context), status_code=code)


def render_form(name: str, context: dict[str, Any]) -> HTMLResponse:
    """A page with a query form: 400 when it shows the query's error, 200 otherwise."""
    return render(name, 400 if context["error"] else 200, **context)


def error_page(
    status: int, message: str, q: str = "", retry_after: int | None = None
) -> HTMLResponse:
    """The HTML error page: the query kept in the box, a reload after ``retry_after``."""
    return render(
        "error.html", status, status=status, message=message, q=q, retry_after=retry_after
    )


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
