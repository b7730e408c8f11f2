"""schemathesis against our own OpenAPI document (issue 9, "in CI from now on"): every operation, with
examples generated from its schema, anonymously and with a bearer token, must never answer with a
server error nor with a body its documented response schema does not describe.

Bounded and deterministic: FUZZ_EXAMPLES examples per operation (TONGBAN_FUZZ_EXAMPLES to change),
derandomized so CI sees the same requests every run. The counts go to the log and to
$TONGBAN_VAR_DIR/fuzz-<database>.txt (docs/security.md quotes them)."""

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tongban.accounts import services as accounts
from tongban.core.authz import SYSTEM

FUZZ_EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, response_schema_conformance]
TALLY: Counter = Counter()
FAILED: dict[str, set] = defaultdict(set)  # operations with a failing example (shrinking repeats them)
OPERATIONS: dict[str, set] = {"anonymous": set(), "token": set()}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: a request must not close the test's database connection, which
    holds the test's open transaction (on a file database, closing it loses everything)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db):
    """A system account holding the demo's staff roles over the whole region: most operations
    answer it with data rather than a refusal, so their success schemas are exercised."""
    accounts.create_staff(
        SYSTEM,
        username="sys-fuzz",
        display_name="接口测试",
        department_code="ggb",
        kind="system",
        roles=[("admin", True), ("supervisor", True), ("data_officer", True)],
    )
    raw, _token = accounts.create_api_token(SYSTEM, username="sys-fuzz", name="fuzz", days=30)
    return raw


def _schema():
    """The document /api/v1/openapi.json serves, called through the WSGI application in-process
    (schemathesis's lazy fixture loader does not run under pytest 9, so it is built at import)."""
    from django.core.handlers.wsgi import WSGIHandler

    from tongban.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
    loaded.app = WSGIHandler()
    return loaded


schema = _schema()

FUZZ = hypothesis_settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate] + ([Phase.explicit] if os.environ.get("TONGBAN_FUZZ_COVERAGE") else []),
)


def _call(case, mode: str, headers: dict | None = None) -> None:
    TALLY[f"{mode}_examples"] += 1
    OPERATIONS[mode].add(f"{case.operation.method.upper()} {case.operation.path}")
    try:
        case.call_and_validate(checks=CHECKS, headers=headers)
    except Exception as exc:
        problems = getattr(exc, "exceptions", [exc])
        server = any(type(p).__name__ == "ServerError" for p in problems)
        FAILED[f"{mode}_server_errors" if server else f"{mode}_violations"].add(case.operation.label)
        raise


@schema.parametrize()
@FUZZ
def test_anonymous_callers_get_no_server_error_and_no_undocumented_body(db, case):
    _call(case, "anonymous")


@schema.parametrize()
@FUZZ
def test_a_token_caller_gets_no_server_error_and_no_undocumented_body(case, bearer):
    _call(case, "token", {"Authorization": f"Bearer {bearer}"})


def setup_module(module):
    TALLY["started"] = time.monotonic()


def teardown_module(module):
    figures = {
        "database": connection.vendor,
        "examples_per_operation": FUZZ_EXAMPLES,
        "seconds": round(time.monotonic() - TALLY["started"]),
        **{f"{mode}_operations": len(ops) for mode, ops in OPERATIONS.items()},
        **{f"{mode}_examples": TALLY[f"{mode}_examples"] for mode in OPERATIONS},
        **{
            f"{m}_{what}": len(FAILED[f"{m}_{what}"])
            for m in OPERATIONS
            for what in ("server_errors", "violations")
        },
    }
    line = "FUZZ " + " ".join(f"{k}={v}" for k, v in figures.items())
    print("\n" + line)
    Path(settings.VAR_DIR, f"fuzz-{connection.vendor}.txt").write_text(json.dumps(figures) + "\n")
