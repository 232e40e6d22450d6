"""Property-based API check: schemathesis generates requests from the OpenAPI document and
asserts no 5xx, no undocumented status codes, schema-violating input refused and responses
that match their schemas.

Bounded: a few examples per operation, authenticated as an admin (who may reach every
operation) so the generated data exercises the handlers, not only the 401 path. One check
is left out on purpose: `positive_data_acceptance` (the schema cannot express clinical
cross-field rules, e.g. two landmarks that coincide, or an episode id of another patient;
those answer 422 naming the field). CDS Hooks routes have their own tests.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings


def _app_with_admin_token() -> tuple[Any, str]:
    from hipspine.registry import get_engine, session_scope
    from hipspine.web import store
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    db = Path(tempfile.mkdtemp(prefix="hipspine-schemathesis-")) / "registry.sqlite"
    engine = get_engine(f"sqlite:///{db}")
    with session_scope(engine) as s:
        user = store.create_user(s, "schema-admin", "schema-admin-password", "admin")
        actor = store.Actor(user.id, user.username, user.role)
        token = store.issue_token(s, actor, "schemathesis")
        patient = store.create_patient(s, actor, "SCHEMA-1", 1950, "female")
        store.create_episode(s, actor, patient.id, dt.date(2025, 1, 1), "spine_clinic")
    return create_app(WebSettings(secret_key="k"), engine=engine), token


APP, TOKEN = _app_with_admin_token()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).include(
    path_regex="^/api/v1/")
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"},
                           excluded_checks=EXCLUDED)
