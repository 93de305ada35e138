"""The JSON API's request and response shapes (they make the OpenAPI description).

Field names are those of the CLI's ``--json`` output: a hit is ``id, score, title, snippet,
labels, metadata, highlights, snippet_start`` (plus ``rank``, and ``shared_words`` /
``in_both`` where the CLI adds them), a word is ``word, weight``, an add report is what
``docret add --json`` prints.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_QUERY_CHARS = 20_000  # a query longer than a few pages is not a query


def _unicode(value: str) -> str:
    """Refuse a string JSON can carry but text cannot hold: a lone surrogate (``"\\ud800"``)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(_unicode)]


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
    metadata: dict[str, Any] = Field(default_factory=dict)  # path, type, author, date, ...
    # the query's words in the snippet: [start, end) character offsets into it
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    snippet_start: int = 0  # where the snippet's passage starts in the document's text
    shared_words: list[str] | None = None
    in_both: bool | None = None


class FiltersIn(BaseModel):
    """Filters over the stored documents, as ``docret query``'s options: ``label`` (all of
    them), ``type`` and ``path`` (any of them), ``since`` / ``until`` (ISO dates, a month or
    a year), ``where`` (``KEY=VALUE``, all of them)."""

    label: list[Text] = []
    type: list[Text] = []
    path: list[Text] = []
    since: Text | None = None
    until: Text | None = None
    where: list[Text] = []


class QueryIn(FiltersIn):
    """A query sent as a body (for texts too long to share as a URL), with its filters."""

    model_config = ConfigDict(extra="forbid")

    q: Text = Field(max_length=MAX_QUERY_CHARS)
    k: int = Field(10, ge=1, le=1000)
    method: Text | None = None
    explain: bool = False
    facets: bool = False

    def filters(self) -> dict[str, Any]:
        """The filters given, as :meth:`docret.filters.Filters.of` reads them."""
        return self.model_dump(include=set(FiltersIn.model_fields))


class FacetOut(BaseModel):
    value: str  # a type, or a folder (the stored path up to its last "/")
    count: int  # how many of the matched documents have it


class FacetsOut(BaseModel):
    """How many matched documents are of each type and in each folder, most first."""

    type: list[FacetOut]
    folder: list[FacetOut]


class QueryOut(BaseModel):
    query: str
    method: str
    methods: list[str]
    k: int
    hits: list[HitOut]
    matched: int  # how many documents the method matched (hits holds the first k of them)
    unknown_words: list[str]  # the first 20, each cut to 40 characters
    unknown_count: int  # how many words of the query are unknown
    query_words: list[str] | None = None  # what the query's code stands for (with explain)
    did_you_mean: str | None = None  # the query, its unknown words replaced by known ones
    facets: FacetsOut | None = None  # with facets=true


class CompareOut(BaseModel):
    """``methods`` names the two rankings; each one's hits are under its name."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, list[HitOut]]

    query: str
    methods: list[str]
    both: list[str]
    unknown_words: list[str]
    unknown_count: int


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

    id: Text = Field(min_length=1, max_length=1000)
    text: Text = Field(min_length=1)
    labels: list[Text] = []
    title: Text | None = None


class AddIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[NewDocument] = Field(min_length=1, max_length=10_000)
    replace: bool = False  # replace documents whose ids are stored from a path


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
