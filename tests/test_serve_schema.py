"""The OpenAPI description of ``docret serve`` checked against its responses (schemathesis):
generated requests to every operation, writes included, get documented statuses and bodies
that match the schema, and never a 500. Bounded: a few examples per operation."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

from docret.serve import create_app  # noqa: E402
from tests.serve_helpers import build_index  # noqa: E402

EXAMPLES = 12  # per operation


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory):
    db: Path = build_index(tmp_path_factory.mktemp("schema"))
    # schemathesis's test client addresses the application as "testserver"
    app = create_app(db, allow_writes=True, allowed_hosts=["testserver"])
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_description(case):
    # A request the schema allows may still be refused, rightly, with a 400: a query whose words
    # are all outside the vocabulary, an unknown ranking method. Every other check stays.
    response = case.call_and_validate(
        excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
    assert response.status_code < 500
