"""The OpenAPI description of ``docret serve`` checked against its responses (schemathesis):
generated requests to every operation, writes included, get documented statuses and bodies
that match the schema, and never a 500. Bounded: a few examples per operation.

Each operation is its own plain pytest test that draws cases from the operation's Hypothesis
strategy. schemathesis's fixture-based ``parametrize`` is not used: it rewrites pytest's private
node ids, which pytest 9 no longer has."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from docret.serve import create_app  # noqa: E402
from tests.serve_helpers import build_index  # noqa: E402

EXAMPLES = 12  # per operation
# The address a local user's browser names: the server answers only the hosts it is reached by.
BASE_URL = "http://127.0.0.1"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def described_operations() -> list[str]:
    """Every operation of the API, writes included, as ``"METHOD /path"``, read from the
    application's own description (creating the application opens no database)."""
    spec = create_app(Path("never-opened.db"), allow_writes=True).openapi()
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    ]


OPERATIONS = described_operations()


@pytest.fixture(scope="module")
def schema_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small index, shared by the operations' tests (the writes of one stay for the next)."""
    return build_index(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def api_schema(schema_db: Path):
    """The schema loaded from a new application over the index, writes allowed. schemathesis's
    pytest plugin ends an application's lifespan after each test, and a served index, once
    closed, stays closed: each test gets its own application."""
    app = create_app(schema_db, allow_writes=True)
    return schemathesis.openapi.from_asgi("/openapi.json", app, headers={"Host": "127.0.0.1"})


def test_every_described_operation_loads(api_schema) -> None:
    # One test per operation below only covers the API if schemathesis can read each of them.
    loaded = []
    for result in api_schema.get_all_operations():
        operation = result.ok()  # raises on an operation the schema describes badly
        loaded.append(f"{operation.method.upper()} {operation.path}")
    assert sorted(loaded) == sorted(OPERATIONS)
    assert any(label.startswith(("POST", "DELETE")) for label in loaded)  # writes are covered


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_to_its_openapi_description(api_schema, label: str) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def conforms(case) -> None:
        # A request the schema allows may still be refused, rightly, with a 400: a query whose
        # words are all outside the vocabulary, an unknown ranking method. Every other check stays.
        response = case.call_and_validate(
            base_url=BASE_URL, excluded_checks=[schemathesis.checks.positive_data_acceptance]
        )
        assert response.status_code < 500

    conforms()
