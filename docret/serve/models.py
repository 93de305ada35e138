"""The JSON API's request and response shapes (they make the OpenAPI description).

Field names are those of the CLI's ``--json`` output: a hit is ``id, score, title, snippet,
labels`` (plus ``rank``, and ``shared_words`` / ``in_both`` where the CLI adds them), a word is
``word, weight``, an add report is what ``docret add --json`` prints.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Error(BaseModel):
    """Every error: the CLI's one-line message."""

    error: str


class HitOut(BaseModel):
    rank: int
    id: str
    score: float
    title: str
    snippet: str
    labels: list[str]
    shared_words: list[str] | None = None
    in_both: bool | None = None


class QueryIn(BaseModel):
    """A query sent as a body (for texts too long to share as a URL)."""

    model_config = ConfigDict(extra="forbid")

    q: str
    k: int = Field(10, ge=1, le=1000)
    method: str | None = None
    explain: bool = False


class QueryOut(BaseModel):
    query: str
    method: str
    methods: list[str]
    k: int
    hits: list[HitOut]
    unknown_words: list[str]
    query_words: list[str] | None = None  # what the query's code stands for (with explain)


class CompareOut(BaseModel):
    query: str
    codes: list[HitOut]
    tfidf: list[HitOut]
    both: list[str]
    unknown_words: list[str]


class SimilarOut(BaseModel):
    id: str
    hits: list[HitOut]


class DocumentOut(BaseModel):
    id: str
    title: str
    text: str
    labels: list[str]
    path: str | None
    split: str | None


class WordOut(BaseModel):
    word: str
    weight: float


class ExplainOut(BaseModel):
    query: str
    id: str | None = None  # with an id: the words the query's and the document's codes share
    words: list[WordOut]


class WordsOut(BaseModel):
    id: str
    words: list[WordOut]


class Density(BaseModel):
    """Counts of all documents on a ``bins`` x ``bins`` grid over the map (row-major, y first)."""

    bins: int
    counts: list[int]


class MapHit(BaseModel):
    rank: int
    id: str
    title: str
    x: float
    y: float
    label: int


class MapOut(BaseModel):
    count: int  # documents in the index
    shown: int  # points sent (a seeded sample when the index is larger than the limit)
    x0: float
    x1: float
    y0: float
    y1: float
    ids: list[str]
    x: list[float]
    y: list[float]
    titles: list[str]
    label: list[int]  # index into legend, -1 for none
    legend: list[dict[str, Any]]  # {"label", "count"}, most frequent first
    density: Density | None = None
    hits: list[MapHit] | None = None  # with q: the query's hits, placed whether sampled or not


class NewDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=1000)
    text: str = Field(min_length=1)
    labels: list[str] = []
    title: str | None = None


class AddIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[NewDocument] = Field(min_length=1, max_length=10_000)


class AddOut(BaseModel):
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    skipped: int
    unknown_share: float
    retrain_advised: bool


class RemoveOut(BaseModel):
    removed: int
