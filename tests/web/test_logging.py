"""No patient identifiers in logs: the filter masks ids in paths, queries, e-mails, dates."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from hipspine.web.logfilter import RedactIdentifiers, redact


def test_redacts_ids_queries_and_identifiers() -> None:
    line = ('127.0.0.1 - "GET /patients/P-00042/proms/new?instrument=odi&mrn=1234567 HTTP/1.1" '
            "200 jane.doe@example.org born 1950-02-03 MRN 12345678")
    out = redact(line)
    for secret in ("P-00042", "1234567", "jane.doe@example.org", "1950-02-03", "12345678"):
        assert secret not in out
    assert "/patients/{id}/proms/new?{query}" in out


@given(st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True).filter(lambda s: s != "new"))
def test_any_patient_path_segment_is_masked(pseudonym: str) -> None:
    assert redact(f"GET /api/v1/patients/{pseudonym}/episodes") == (
        "GET /api/v1/patients/{id}/episodes")


def test_app_logs_carry_no_identifiers(clinician: TestClient,
                                       caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1", "GET", "/patients/LOGPSEUDO-7?x=1", "1.1", 200),
                               None)
    RedactIdentifiers().filter(record)
    assert "LOGPSEUDO-7" not in record.getMessage()
    with caplog.at_level(logging.DEBUG):
        pid = clinician.post("/api/v1/patients", json={"pseudonym": "LOGPSEUDO-8"}).json()["id"]
        clinician.get(f"/api/v1/patients/{pid}")
        clinician.get("/api/v1/patients", params={"pseudonym": "LOGPSEUDO-8"})
    assert "LOGPSEUDO-8" not in caplog.text


def test_uvicorn_access_format_survives_the_filter() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/patients/PSEUDO-42?mrn=1234567",
                                "1.1", 200), None)
    RedactIdentifiers().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                           use_colors=False).format(record)
    assert "PSEUDO-42" not in line and "1234567" not in line
    assert "/patients/{id}?{query}" in line


def test_filter_is_installed_on_server_loggers(app: object) -> None:
    for name in ("uvicorn.access", "uvicorn.error", "hipspine"):
        assert any(isinstance(f, RedactIdentifiers) for f in logging.getLogger(name).filters)


# Known identifiers and secrets sent through every route of a real server; none may appear
# in any log line it writes (access log, errors, tracebacks).
NAME = "Zebedee Quartermaine"
BIRTH = "1950-02-03"
MRN = "88112233"
PSEUDO = "SECRETPSEUDO-77"
API_TOKEN = "hst_" + "Q" * 40
JWT = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlLXNlY3JldA"
SECRETS = (NAME, "Zebedee", "Quartermaine", BIRTH, MRN, PSEUDO, API_TOKEN, JWT)


def test_a_traceback_keeps_its_frames_but_not_its_message() -> None:
    try:
        raise ValueError(f"patient {NAME} born {BIRTH} MRN {MRN} body {{'token': '{API_TOKEN}'}}")
    except ValueError:
        import sys

        record = logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1,
                                   "Exception in ASGI application", None, sys.exc_info())
    RedactIdentifiers().filter(record)
    text = logging.Formatter("%(message)s").format(record)
    assert "test_a_traceback_keeps_its_frames_but_not_its_message" in text  # the frame
    assert "builtins.ValueError: (message withheld" in text
    for secret in SECRETS[:7]:
        assert secret not in text


@pytest.mark.parametrize("line", [
    f"Authorization: Bearer {JWT}", f"token={API_TOKEN}", f"cookie: hipspine_session={JWT}",
    f"got {JWT} from the EHR", f"Authorization: Basic {API_TOKEN[4:]}"])
def test_credentials_are_masked(line: str) -> None:
    out = redact(line)
    assert JWT not in out and API_TOKEN not in out and API_TOKEN[4:] not in out


def api_routes(router: Any, prefix: str = "") -> list[tuple[str, set[str]]]:
    """(path, methods) of every API route, through included routers."""
    from fastapi.routing import APIRoute

    out: list[tuple[str, set[str]]] = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            out += api_routes(inner, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            out.append((prefix + route.path, set(route.methods)))
    return out


def _fill(path: str, value: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", value, path)


def test_no_identifier_or_secret_reaches_any_log_line(app: Any) -> None:
    """Every route of the app, under a real uvicorn with its own logging configuration, at
    debug level, with identifiers in paths, queries, bodies, headers and cookies, and one
    route that fails with them in its exception."""
    import httpx
    from tests.web.conftest import PASSWORDS, csrf_of, served_with_logs

    @app.post("/test-only/boom")
    def boom() -> None:
        raise RuntimeError(f"{NAME} {BIRTH} {MRN} {API_TOKEN}")

    with served_with_logs(app) as (base, sink):
        with httpx.Client(base_url=base, timeout=60) as client:
            page = client.get("/login")
            client.post("/login", data={"username": "clin", "password": PASSWORDS["clin"],
                                        "csrf_token": csrf_of(page.text)})
            csrf = csrf_of(client.get("/login").text)
            body = {"pseudonym": PSEUDO, "name": NAME, "birthDate": BIRTH, "mrn": MRN,
                    "token": API_TOKEN, "notes": [f"{NAME} born {BIRTH}, MRN {MRN}"]}
            sent = 0
            for route_path, methods in api_routes(app):
                if route_path.startswith("/test-only"):
                    continue
                for method in sorted(methods - {"HEAD"}):
                    targets = {_fill(route_path, MRN), _fill(route_path, PSEUDO)}
                    for target in sorted(targets):
                        headers = {"X-CSRF-Token": csrf, "X-Patient-Name": NAME}
                        if "cds-services" in target:
                            headers["Authorization"] = f"Bearer {JWT}"
                        client.request(method, target,
                                       params={"mrn": MRN, "name": NAME, "dob": BIRTH},
                                       json=body if method != "GET" else None,
                                       headers=headers)
                        sent += 1
            with httpx.Client(base_url=base, timeout=60) as machine:
                machine.get("/api/v1/patients", headers={"Authorization":
                                                          f"Bearer {API_TOKEN}"})
                machine.get(f"/q/{API_TOKEN}")
                assert machine.post("/test-only/boom").status_code == 500
        assert sent > 40
    text = sink.getvalue()
    assert "uvicorn.access" in text and "Traceback" in text  # the logs were written
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, [line for line in text.splitlines() if any(s in line for s in leaked)][:5]
