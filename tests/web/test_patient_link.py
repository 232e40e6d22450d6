"""PROM links for a patient's phone: opaque (a random token, stored only as its SHA-256
digest), for one patient, instrument and timepoint, single use, expiring and revocable; the
score lands in the registry with the link's timepoint. Issued by a clinician who may see the
patient; the URL is shown once, never in a GET URL, and never reaches a log line."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from tests.web.conftest import csrf_of, login

from hipspine.registry import session_scope
from hipspine.registry.tables import AuditEvent, PatientLink, PromAdministration, User

URL_IN_PAGE = re.compile(r'id="link-url"[^>]* value="([^"]+)"')


def _patient(clinician: TestClient, pseudonym: str = "LINK-1") -> int:
    r = clinician.post("/api/v1/patients", json={"pseudonym": pseudonym})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _issue(clinician: TestClient, pid: int, instrument: str = "nrs_leg",
           timepoint: str = "6m") -> str:
    """Issue a link through the patient page's form; the path (`/q/<token>`) it shows."""
    page = clinician.get(f"/patients/{pid}")
    r = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": instrument, "timepoint": timepoint})
    assert r.status_code == 200, r.text
    match = URL_IN_PAGE.search(r.text)
    assert match, "the issue page shows no link"
    url = match.group(1)
    assert url.startswith("http://testserver/q/")
    return url.removeprefix("http://testserver")


def _answer(app: Any, path: str, value: str = "4") -> Any:
    """The patient opens the link on their phone and submits."""
    with TestClient(app) as phone:
        form = phone.get(path, headers={"Accept": "text/html"})
        assert form.status_code == 200, form.text
        return phone.post(path, data={"csrf_token": csrf_of(form.text), "item_0": value},
                          headers={"Accept": "text/html"})


def _count(engine: Any, table: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _links(engine: Any) -> list[PatientLink]:
    with session_scope(engine) as s:
        return list(s.scalars(select(PatientLink).order_by(PatientLink.id)))


def _proms(engine: Any) -> list[PromAdministration]:
    with session_scope(engine) as s:
        return list(s.scalars(select(PromAdministration).order_by(PromAdministration.id)))


def _events(engine: Any, prefix: str) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                              .order_by(AuditEvent.id)))


# ----------------------------------------------------------------------------- opaque

def test_the_url_is_opaque_and_the_registry_holds_only_its_digest(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    path = _issue(clinician, pid)
    token = path.removeprefix("/q/")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # secrets.token_urlsafe(32)
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for readable in (b"nrs_leg", b'"p"', b"clin", str(pid).encode() + b","):
        assert readable not in decoded
    with pytest.raises(ValueError):
        json.loads(decoded)
    (link,) = _links(engine)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (link.patient_id, link.instrument, link.timepoint, link.issued_by) == (
        pid, "nrs_leg", "6m", "clin")
    assert link.expires_at - link.created_at == dt.timedelta(days=14)  # patient_link_days
    assert token not in repr([getattr(link, c.key) for c in PatientLink.__table__.columns])
    # shown once: the patient page lists the link but cannot show its address again
    page = clinician.get(f"/patients/{pid}").text
    assert token not in page and "/q/" not in page


def test_issuing_answers_the_post_with_the_url_uncached(clinician: TestClient) -> None:
    pid = _patient(clinician)
    page = clinician.get(f"/patients/{pid}")
    r = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "nrs_back", "timepoint": "3m"},
        follow_redirects=False)
    assert r.status_code == 200 and URL_IN_PAGE.search(r.text)  # no redirect to a GET URL
    assert r.headers["cache-control"] == "no-store"
    assert "only time the link is shown" in r.text


def test_a_get_of_the_patient_page_creates_no_link(engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    for _ in range(3):
        page = clinician.get(f"/patients/{pid}")
        assert page.status_code == 200
        assert "/q/" not in page.text  # no ready-made links in the page
    assert _count(engine, PatientLink) == 0
    assert f'action="/patients/{pid}/links"' in page.text  # a form to make one instead


# ----------------------------------------------------------------------------- use

def test_a_link_is_used_once_and_the_prom_gets_its_timepoint(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    path = _issue(clinician, pid, "nrs_leg", "6m")
    with TestClient(app) as phone:
        form = phone.get(path, headers={"Accept": "text/html"})
        assert form.status_code == 200 and "LINK-1" not in form.text
        csrf = csrf_of(form.text)
        done = phone.post(path, data={"csrf_token": csrf, "item_0": "4"})
        assert done.status_code == 200 and "Thank you" in done.text
        again = phone.post(path, data={"csrf_token": csrf, "item_0": "9"})
        assert again.status_code == 410 and "already been answered" in again.text
        assert phone.get(path).status_code == 410
    (prom,) = _proms(engine)
    assert (prom.patient_id, prom.instrument, prom.timepoint, prom.score) == (
        pid, "nrs_leg", "6m", 4)
    (link,) = _links(engine)
    assert link.used_at is not None and link.prom_id == prom.id
    assert "Numeric rating scale, leg pain: 4 at 6 months" in clinician.get(f"/patients/{pid}").text


def test_a_new_link_withdraws_the_older_one_and_one_answer_per_timepoint(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    first = _issue(clinician, pid, "nrs_hip", "3m")
    other_timepoint = _issue(clinician, pid, "nrs_hip", "6m")
    second = _issue(clinician, pid, "nrs_hip", "3m")
    with TestClient(app) as phone:
        r = phone.get(first, headers={"Accept": "text/html"})
        assert r.status_code == 410 and "withdrawn" in r.text
    assert _answer(app, second).status_code == 200
    assert _answer(app, other_timepoint).status_code == 200  # another timepoint: its own
    # the 3m answer is in: a further 3m link is refused, with a page saying why
    page = clinician.get(f"/patients/{pid}")
    r = clinician.post(f"/patients/{pid}/links", data={
        "csrf_token": csrf_of(page.text), "instrument": "nrs_hip", "timepoint": "3m"})
    assert r.status_code == 409 and "already answered" in r.text
    assert len(_proms(engine)) == 2 and len(_links(engine)) == 3


def test_a_second_open_link_of_the_same_timepoint_is_refused_after_the_first(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    first = _issue(clinician, pid, "nrs_back", "12m")
    second = _issue(clinician, pid, "nrs_back", "12m")
    with session_scope(engine) as s:  # as if both were issued at once: both open
        s.execute(update(PatientLink).values(revoked_at=None, revoked_by=None))
    assert _answer(app, second).status_code == 200
    with TestClient(app) as phone:
        form = phone.get(first, headers={"Accept": "text/html"})
        assert form.status_code == 200  # the form opens, the answer is refused
        r = phone.post(first, data={"csrf_token": csrf_of(form.text), "item_0": "2"})
    assert r.status_code == 410 and "already been answered" in r.text
    assert len(_proms(engine)) == 1
    assert [link.used_at is not None for link in _links(engine)] == [False, True]


def test_revoked_expired_random_and_malformed_links_are_refused_plainly(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    revoked = _issue(clinician, pid, "nrs_leg", "baseline")
    expired = _issue(clinician, pid, "nrs_back", "baseline")
    r = clinician.post(f"/api/v1/patients/{pid}/links/{_links(engine)[0].id}/revoke")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    with session_scope(engine) as s:
        s.execute(update(PatientLink).where(PatientLink.instrument == "nrs_back")
                  .values(expires_at=dt.datetime(2020, 1, 1)))
    with TestClient(app) as phone:
        html = {"Accept": "text/html"}
        csrf = csrf_of(phone.get("/login").text)
        for path, status, words in ((revoked, 410, "withdrawn"), (expired, 410, "expired")):
            for r in (phone.get(path, headers=html),
                      phone.post(path, data={"csrf_token": csrf, "item_0": "3"}),
                      phone.get(path)):  # any Accept header: a page for a person
                assert r.status_code == status and words in r.text, (path, r.text)
                assert r.headers["content-type"].startswith("text/html")
        tampered = revoked[:-1] + ("A" if revoked[-1] != "A" else "B")
        for path in (tampered, "/q/not-a-token", "/q/" + "x" * 300, "/q/%00%ff",
                     "/q/" + "A" * 43, "/q/" + "A" * 42 + "="):
            for r in (phone.get(path), phone.post(path, data={"csrf_token": csrf})):
                assert r.status_code == 404 and "not valid" in r.text, (path, r.text)
    assert _proms(engine) == []


# ----------------------------------------------------------------------------- issuing

def test_issuing_needs_a_clinician_of_the_patient_and_csrf(
        app: Any, engine: Any, clinician: TestClient, researcher: TestClient,
        admin: TestClient) -> None:
    pid = _patient(clinician)
    csrf = csrf_of(clinician.get(f"/patients/{pid}").text)
    body = {"instrument": "nrs_leg", "timepoint": "6w"}
    assert clinician.post(f"/patients/{pid}/links", data=body).status_code == 403
    assert clinician.post(f"/patients/{pid}/links",
                          data={**body, "csrf_token": "forged"}).status_code == 403
    with TestClient(app) as other:
        login(other, "clin2")
        other_csrf = csrf_of(other.get("/").text)
        assert other.post(f"/patients/{pid}/links",
                          data={**body, "csrf_token": other_csrf}).status_code == 404
        assert other.post(f"/api/v1/patients/{pid}/links", json=body).status_code == 404
    res_csrf = csrf_of(researcher.get("/research").text)
    assert researcher.post(f"/patients/{pid}/links",
                           data={**body, "csrf_token": res_csrf}).status_code == 403
    assert researcher.post(f"/api/v1/patients/{pid}/links", json=body).status_code == 403
    del clinician.headers["X-CSRF-Token"]  # the session cookie alone does not do
    assert clinician.post(f"/api/v1/patients/{pid}/links", json=body).status_code == 403
    # licensed wording, unknown instruments and timepoints: refused, naming what is allowed
    for bad in ({"instrument": "odi", "timepoint": "6w"},
                {"instrument": "no-such", "timepoint": "6w"},
                {"instrument": "nrs_leg", "timepoint": "7w"}):
        r = clinician.post(f"/patients/{pid}/links", data={**bad, "csrf_token": csrf})
        assert r.status_code == 422 and "No link made" in r.text
    assert _count(engine, PatientLink) == 0
    assert admin.post(f"/api/v1/patients/{pid}/links", json=body).status_code == 201


def test_the_issue_form_offers_only_instruments_whose_wording_ships(
        clinician: TestClient) -> None:
    page = clinician.get(f"/patients/{_patient(clinician)}").text
    form = page[page.index('id="l-instrument"'):]
    form = form[:form.index("</select>")]
    assert 'value="nrs_leg"' in form and 'value="odi"' not in form
    assert all(f"<option>{t}</option>" in page for t in ("baseline", "6w", "12m", "24m"))


# ----------------------------------------------------------------------------- clinician page

def test_the_patient_page_shows_status_and_revokes_through_its_form(
        app: Any, engine: Any, clinician: TestClient) -> None:
    pid = _patient(clinician)
    used = _issue(clinician, pid, "nrs_leg", "6w")
    _issue(clinician, pid, "nrs_back", "6w")
    expired = _issue(clinician, pid, "nrs_hip", "6w")
    assert _answer(app, used).status_code == 200
    with session_scope(engine) as s:
        s.execute(update(PatientLink).where(PatientLink.instrument == "nrs_hip")
                  .values(expires_at=dt.datetime(2020, 1, 1)))
    ids = {link.instrument: link.id for link in _links(engine)}
    page = clinician.get(f"/patients/{pid}").text
    status = dict(re.findall(r'data-link-id="(\d+)" data-status="(\w+)"', page))
    assert status == {str(ids["nrs_leg"]): "used", str(ids["nrs_back"]): "open",
                      str(ids["nrs_hip"]): "expired"}
    revoke = f"/patients/{pid}/links/{ids['nrs_back']}/revoke"
    assert page.count("/revoke\"") == 1 and f'action="{revoke}"' in page  # open ones only
    assert clinician.post(revoke, data={}).status_code == 403  # no CSRF token
    r = clinician.post(revoke, data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/patients/{pid}#links"
    page = clinician.get(f"/patients/{pid}").text
    assert f'data-link-id="{ids["nrs_back"]}" data-status="revoked"' in page
    assert "by clin" in page
    # a used link cannot be revoked; another patient's link id is not found
    r = clinician.post(f"/patients/{pid}/links/{ids['nrs_leg']}/revoke",
                       data={"csrf_token": csrf_of(page)})
    assert r.status_code == 409 and "already answered" in r.text
    other = _patient(clinician, "LINK-2")
    r = clinician.post(f"/patients/{other}/links/{ids['nrs_hip']}/revoke",
                       data={"csrf_token": csrf_of(page)})
    assert r.status_code == 404
    assert _links(engine)[2].revoked_at is None
    with TestClient(app) as phone:
        assert phone.get(expired).status_code == 410


# ----------------------------------------------------------------------------- API

def test_the_api_issues_lists_and_revokes(app: Any, engine: Any, clinician: TestClient,
                                          researcher: TestClient) -> None:
    from tests.web.conftest import token_client

    pid = _patient(clinician)
    machine = token_client(app, clinician)
    r = machine.post(f"/api/v1/patients/{pid}/links",
                     json={"instrument": "nrs_leg", "timepoint": "24m", "days": 30})
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["url"] == f"http://testserver/q/{issued['token']}"
    assert issued["status"] == "open" and issued["timepoint"] == "24m"
    created = dt.datetime.fromisoformat(issued["created_at"])
    assert dt.datetime.fromisoformat(issued["expires_at"]) - created == dt.timedelta(days=30)
    listed = machine.get(f"/api/v1/patients/{pid}/links").json()
    assert [link["id"] for link in listed] == [issued["id"]]
    assert "token" not in listed[0] and issued["token"] not in json.dumps(listed)
    assert researcher.get(f"/api/v1/patients/{pid}/links").status_code == 403
    revoked = machine.post(f"/api/v1/patients/{pid}/links/{issued['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_by"] == "clin"
    again = machine.post(f"/api/v1/patients/{pid}/links/{issued['id']}/revoke")
    assert again.status_code == 200  # idempotent
    assert machine.post(f"/api/v1/patients/{pid}/links/999/revoke").status_code == 404
    r = machine.post(f"/api/v1/patients/{pid}/links",
                     json={"instrument": "ohs", "timepoint": "24m"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "instrument"
    fresh = machine.post(f"/api/v1/patients/{pid}/links",
                         json={"instrument": "nrs_leg", "timepoint": "24m"}).json()
    assert _answer(app, fresh["url"].removeprefix("http://testserver")).status_code == 200
    r = machine.post(f"/api/v1/patients/{pid}/links/{fresh['id']}/revoke")
    assert r.status_code == 409
    used = machine.get(f"/api/v1/patients/{pid}/links").json()[0]
    assert used["status"] == "used" and used["prom_id"] == _proms(engine)[0].id


# ----------------------------------------------------------------------------- audit, logs

def test_issue_use_revoke_and_refusals_are_audited_without_the_token(
        app: Any, engine: Any, clinician: TestClient, admin: TestClient) -> None:
    pid = _patient(clinician, "AUDIT-PSEUDO-1")
    used = _issue(clinician, pid, "nrs_leg", "6m")
    _issue(clinician, pid, "nrs_back", "6m")
    replaced = _issue(clinician, pid, "nrs_hip", "6m")
    _issue(clinician, pid, "nrs_hip", "6m")
    assert _answer(app, used).status_code == 200
    ids = [link.id for link in _links(engine)]
    clinician.post(f"/api/v1/patients/{pid}/links/{ids[1]}/revoke")
    with TestClient(app) as phone:
        assert phone.get(replaced).status_code == 410
        assert phone.get("/q/" + "Z" * 43).status_code == 404
    events = {(e.action, e.resource_id): e for e in _events(engine, "patient_link.")}
    issue = events[("patient_link.issue", str(ids[0]))]
    assert (issue.actor, issue.role, issue.resource_type) == ("clin", "clinician",
                                                             "patient_link")
    assert issue.detail == {"patient_id": pid, "instrument": "nrs_leg", "timepoint": "6m",
                            "days": 14}
    use = events[("patient_link.use", str(ids[0]))]
    prom_id = _proms(engine)[0].id
    assert (use.actor, use.role) == ("patient link", "patient")
    assert use.detail == {"patient_id": pid, "prom_id": prom_id}
    assert events[("patient_link.revoke", str(ids[1]))].detail == {"patient_id": pid}
    assert events[("patient_link.revoke", str(ids[2]))].detail == {"patient_id": pid,
                                                                   "replaced_by": ids[3]}
    assert events[("patient_link.refused", str(ids[2]))].detail == {"reason": "revoked",
                                                                    "method": "GET"}
    assert (events[("patient_link.refused", None)].detail or {})["reason"] == "unknown"
    assert ("prom.create", str(prom_id)) in {(e.action, e.resource_id)
                                             for e in _events(engine, "prom.create")}
    everything = admin.get("/api/v1/audit.csv").text + repr(
        [(e.actor, e.resource_id, e.detail) for e in _events(engine, "")])
    tokens = [path.removeprefix("/q/") for path in (used, replaced)]
    digests = [hashlib.sha256(t.encode()).hexdigest() for t in tokens]
    assert not [x for x in [*tokens, *digests, "AUDIT-PSEUDO-1"] if x in everything]


def test_the_access_log_line_of_a_link_holds_no_token(app: Any, engine: Any) -> None:
    """A real uvicorn's access log for opening and submitting a link: `/q/{id}`."""
    import httpx
    from tests.web.conftest import served_with_logs

    from hipspine.web import store

    with session_scope(engine) as s:
        user = s.scalars(select(User).where(User.username == "clin")).one()
        actor = store.Actor(user.id, user.username, user.role)
        patient = store.create_patient(s, actor, "LOG-LINK-1", None, None)
        _, token = store.issue_patient_link(s, actor, patient.id, "nrs_leg", "6m")
    with served_with_logs(app, "info", ("uvicorn.access",)) as (base, sink):
        with httpx.Client(base_url=base, timeout=30) as phone:
            form = phone.get(f"/q/{token}")
            assert form.status_code == 200
            done = phone.post(f"/q/{token}", data={"csrf_token": csrf_of(form.text),
                                                   "item_0": "5"})
            assert done.status_code == 200
            assert phone.get(f"/q/{token}?from=sms").status_code == 410
    lines = [line for line in sink.getvalue().splitlines() if "/q/" in line]
    assert len(lines) == 3, sink.getvalue()
    assert all("/q/{id}" in line for line in lines)
    assert token not in sink.getvalue() and token[:12] not in sink.getvalue()
