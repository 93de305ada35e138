"""Files served as they are: the package's static assets and the original file a document
was read from."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from docret.serve import logic
from docret.serve.deps import Served

STATIC = Path(__file__).parent / "static"
# An original file is shown as it is, but never as a page of this server's origin: an indexed
# HTML file runs no script and reaches nothing here (CSP sandbox), and no type is guessed.
ORIGINAL_FILE_HEADERS = {
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """The stylesheet, scripts and icon the pages load (mounted at ``/static``)."""
    return StaticFiles(directory=STATIC)


@router.get("/file/{doc_id:path}")
async def original_file_page(served: Served, doc_id: str):
    """The file a document was read from, read-only, when it may be served
    (:func:`docret.originals.original_file`); 404 otherwise."""
    path = await served.run(logic.original_file, doc_id)
    return FileResponse(
        path,
        filename=path.name,
        content_disposition_type="inline",
        headers=ORIGINAL_FILE_HEADERS,
    )
