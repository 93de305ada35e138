"""What routes receive through FastAPI's dependencies rather than from the enclosing app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from docret.serve.state import ServedIndex


def served_index(request: Request) -> ServedIndex:
    """The index this application serves (kept on ``app.state`` by ``create_app``)."""
    return request.app.state.served


Served = Annotated[ServedIndex, Depends(served_index)]
