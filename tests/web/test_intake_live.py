"""The intake's live estimate (POST /intake/estimate): a fragment with the verdict, the top
sources and the red flags; CSRF-checked, signed-in only, problems shown in the fragment, and
nothing saved. Also: the intake's yes/no findings are radio groups, red flags first."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.conftest import csrf_of, intake_form

from hipspine.registry import session_scope
from hipspine.registry.tables import AuditEvent, Episode, StoredAssessment
from hipspine.web.intake import red_flag_fields, sections


def _count(engine: Any, table: Any) -> int:
    with session_scope(engine) as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_the_fragment_shows_the_verdict_of_the_form(clinician: TestClient,
                                                    example_cases: dict[str, Any]) -> None:
    import hipspine

    token = csrf_of(clinician.get("/intake").text)
    for name, case in example_cases.items():
        r = clinician.post("/intake/estimate", data=intake_form(case, token))
        assert r.status_code == 200, (name, r.text[:300])
        expected = hipspine.assess(case)
        assert f'data-verdict="{expected.verdict}"' in r.text, name
        assert "<html" not in r.text and "<form" not in r.text  # a fragment, not a page
        top = max(expected.sources, key=lambda s: s.probability)
        assert f'data-source="{top.id}"' in r.text


def test_toggling_a_finding_moves_the_estimate(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/intake").text)
    base = {"csrf_token": token, "age": "66", "sex": "female"}

    def hip(extra: dict[str, Any]) -> float:
        html = clinician.post("/intake/estimate", data={**base, **extra}).text
        m = re.search(r'data-source="hip" data-probability="([0-9.]+)"', html)
        assert m, html[:400]
        return float(m.group(1))

    before = hip({})
    after = hip({"symptoms.pain_locations": "groin", "exam.faber_positive": "yes",
                 "exam.hip_internal_rotation_deg": "10"})
    assert after > before


def test_red_flags_show_in_the_fragment(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/intake").text)
    r = clinician.post("/intake/estimate", data={"csrf_token": token, "age": "71",
                                                 "symptoms.saddle_anaesthesia": "yes"})
    assert r.status_code == 200
    assert 'id="estimate-red-flags"' in r.text and "Saddle anaesthesia" in r.text


def test_without_csrf_403_and_signed_out_refused(clinician: TestClient, anon: TestClient,
                                                  ) -> None:
    r = clinician.post("/intake/estimate", data={"age": "60"})
    assert r.status_code == 403
    r = clinician.post("/intake/estimate", data={"age": "60", "csrf_token": "wrong"})
    assert r.status_code == 403
    r = anon.post("/intake/estimate", data={"age": "60"}, follow_redirects=False)
    assert r.status_code in (303, 401, 403)
    assert 'id="estimate-verdict"' not in r.text


def test_bad_numbers_are_shown_in_the_fragment_never_a_5xx(clinician: TestClient) -> None:
    token = csrf_of(clinician.get("/intake").text)
    for bad in ({"age": "7"}, {"age": "abc"}, {"exam.hip_internal_rotation_deg": "1e999"},
                {"exam.faber_positive": "maybe"}, {"sex": "unknown-choice"}):
        r = clinician.post("/intake/estimate", data={"csrf_token": token, **bad})
        assert r.status_code == 200, (bad, r.status_code)
        assert 'id="estimate-problems"' in r.text, bad
        assert 'id="estimate-verdict"' not in r.text
        field = next(iter(bad))
        assert f'href="#f-{field.replace(".", "-")}"' in r.text


def test_the_estimate_saves_nothing(engine: Any, clinician: TestClient,
                                    example_cases: dict[str, Any]) -> None:
    page = clinician.get("/")
    pid = re.search(r'href="/patients/(\d+)"', page.text)
    token = csrf_of(clinician.get("/intake").text)
    before = [_count(engine, t) for t in (AuditEvent, StoredAssessment, Episode)]
    data = intake_form(example_cases["hip-dominant"], token)
    if pid:
        data["patient_id"] = pid.group(1)  # even naming a patient: nothing is stored
    for _ in range(3):
        assert clinician.post("/intake/estimate", data=data).status_code == 200
    assert [_count(engine, t) for t in (AuditEvent, StoredAssessment, Episode)] == before


def test_intake_has_radio_toggles_red_flags_first_and_the_panel(clinician: TestClient) -> None:
    html = clinician.get("/intake").text
    assert "<select" not in html.split('id="sec-red_flags"', 1)[1].split("</fieldset>", 1)[0]
    for value in ("yes", "no", ""):
        assert f'name="exam.faber_positive" value="{value}"' in html
    assert re.search(r'name="exam.faber_positive" value="" id="[^"]+" checked', html)
    assert html.index('id="sec-red_flags"') < html.index("<legend>Patient</legend>")
    assert 'hx-post="/intake/estimate"' in html and 'action="/intake"' in html
    assert 'src="/static/vendor/htmx.min.js"' in html and "/static/intake.css" in html
    assert "https://" not in html.split("<script", 1)[1]  # vendored, no CDN
    assert 'id="estimate-body"' in html


def test_red_flag_questions_come_from_the_knowledge() -> None:
    from hipspine.assess.knowledge import load_assessment_knowledge

    tested = {c.field for r in load_assessment_knowledge().rules.red_flags
              for t in r.triggers for c in t.all_of if c.op == "is_true"}
    red = next(s for s in sections() if s.key == "red_flags")
    paths = [f.path for f in red.fields]
    assert {"symptoms.saddle_anaesthesia", "symptoms.bladder_bowel_dysfunction",
            "symptoms.fever", "history.cancer_history"} <= set(paths)
    assert set(paths) <= set(red_flag_fields()) and tested - {"imaging.lesion_kinds"} <= set(
        paths)
    others = [f.path for s in sections() if s.key != "red_flags" for f in s.fields]
    assert not set(paths) & set(others)  # each question asked once
