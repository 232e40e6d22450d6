"""No patient identifiers in logs: the filter masks ids in paths, queries, e-mails, dates."""

from __future__ import annotations

import logging

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
