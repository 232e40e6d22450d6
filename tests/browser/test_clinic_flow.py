"""The clinic's main journeys in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser

EXPECTED_VERDICT = {"hip-dominant": "hip", "spine-dominant": "spine",
                    "hip-spine-syndrome": "both"}


def fill_intake(page: Any, case: dict[str, Any]) -> None:
    """Fill the intake form from a case document the way a clinician would, field by field."""
    from hipspine.web.intake import form_values

    for path, value in form_values(case).items():
        if path in ("format",):
            continue
        if path == "symptoms.pain_locations":
            for loc in value:
                page.click(f'.bodymap [data-loc="{loc}"] >> nth=0')
            continue
        selector = f'[name="{path}"]'
        element = page.query_selector(selector)
        assert element is not None, f"intake has no input for {path}"
        tag = element.evaluate("e => e.tagName")
        if element.get_attribute("type") == "radio":  # yes / no / not known toggles
            page.check(f'[name="{path}"][value="{value}"]')
        elif tag == "SELECT":
            page.select_option(selector, str(value))
        else:
            page.fill(selector, str(value))


def test_intake_for_each_example_case_shows_its_verdict(page: Any, server: str,
                                                        example_cases: dict[str, Any]) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    for name, case in example_cases.items():
        page.goto(f"{server}/intake")
        fill_intake(page, case)
        for loc in case.get("symptoms", {}).get("pain_locations", []):
            assert page.is_checked(f'input[name="symptoms.pain_locations"][value="{loc}"]')
        if name == "hip-dominant":
            shot(page, "intake")
        page.click("#assess-button")
        page.wait_for_selector("#verdict")
        verdict = page.get_attribute("#verdict", "data-verdict")
        import hipspine

        expected = hipspine.assess(case).verdict
        assert verdict == expected, name
        if name in EXPECTED_VERDICT:
            assert verdict == EXPECTED_VERDICT[name]
        assert page.is_visible("#source-hip") and page.is_visible("#source-spine")
        shot(page, f"result-{name}")


def test_inline_validation_names_the_field(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    page.fill('[name="age"]', "7")
    page.click("#assess-button")
    page.wait_for_selector("#form-errors")
    error = page.inner_text("#f-age-err")
    assert "18" in error and "110" in error
    shot(page, "intake-validation")


def test_prom_submitted_appears_on_timeline(phone: Any, server: str) -> None:
    sign_in(phone, server, "clinician", "demo-clinician")
    phone.goto(f"{server}/")
    phone.click("table a >> nth=0")
    phone.wait_for_selector("#timeline")
    url = phone.url
    phone.click("text=Numeric rating scale, back pain")
    phone.wait_for_selector("#prom-submit")
    shot(phone, "prom-phone")
    phone.check('input[name="item_0"][value="3"]')
    phone.fill("#administered_on", "2026-11-15")
    phone.click("#prom-submit")
    phone.wait_for_selector("#timeline")
    assert phone.url.split("#")[0].split("?")[0] == url  # ?saved_prom=ID: the notice
    timeline = phone.inner_text("#timeline")
    assert "2026-11-15" in timeline and "Numeric rating scale, back pain: 3" in timeline
    shot(phone, "patient-phone")


def test_researcher_cannot_open_identified_patient(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/")
    page.click("table a >> nth=0")
    page.wait_for_selector("#timeline")
    patient_url = page.url
    shot(page, "patient")
    page.context.clear_cookies()
    sign_in(page, server, "researcher", "demo-researcher")
    response = page.goto(patient_url)
    assert response is not None and response.status == 403
    assert "timeline" not in page.content()


def test_spinopelvic_upload_draws_angles(page: Any, server: str, shared_dir: Any) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/spinopelvic")
    page.set_input_files("#landmarks_file", str(shared_dir / "examples" / "landmarks.json"))
    page.click("#spinopelvic-submit")
    page.wait_for_selector("#spinopelvic-result")
    from hipspine.spinopelvic import measure_landmarks

    expected = measure_landmarks((shared_dir / "examples" / "landmarks.json").read_text())
    assert page.inner_text("#hip-spine-class") == (expected.hip_spine_class or "not determined")
    assert page.query_selector("#spinopelvic-result svg") is not None
    shot(page, "spinopelvic")


def test_admin_sees_audit_of_patient_reads(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/")
    page.click("table a >> nth=0")
    page.context.clear_cookies()
    sign_in(page, server, "admin", "demo-admin")
    page.goto(f"{server}/admin?action=patient.read")
    assert "patient.read" in page.inner_text("#audit")
    shot(page, "admin-audit")


def test_self_report_on_phone_prefills_intake(phone: Any, server: str) -> None:
    phone.goto(f"{server}/self-report")
    shot(phone, "self-report-phone")
    radios = phone.query_selector_all('input[type=radio][value="yes"]')
    for radio in radios:
        radio.check()
    phone.click('.bodymap [data-loc="groin"] >> nth=0')
    phone.fill('[name="sugioka2008_self_report_lss.age"]', "71")
    phone.click("#self-report-submit")
    phone.wait_for_selector("#self-report-summary")
    assert "not a diagnosis" in phone.inner_text("#self-report-summary")
    shot(phone, "self-report-summary")
    link = phone.get_attribute("#prefill-link", "href")
    assert link and link.startswith("/intake?prefill=")
    sign_in(phone, server, "clinician", "demo-clinician")
    phone.goto(server + link)
    phone.wait_for_selector("#intake")
    assert "self-report" in phone.inner_text("main")
    assert phone.input_value('[name="age"]') == "71"
    assert phone.is_checked('input[name="symptoms.pain_locations"][value="groin"]')


def test_researcher_dashboard_and_report_download(page: Any, server: str) -> None:
    sign_in(page, server, "researcher", "demo-researcher")
    assert page.url.endswith("/research")
    page.wait_for_selector("#completeness")
    assert "SYNTHETIC" in page.inner_text("#cohort")
    shot(page, "research-dashboard")
    with page.expect_download() as info:
        page.click("#report-download")
    path = info.value.path()
    assert path is not None
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    assert "<html" in text.lower()


def test_click_landmarks_on_a_radiograph(page: Any, server: str, shared_dir: Any,
                                         tmp_path: Any) -> None:
    """Landmarks clicked on an image give the same hip-spine class as the JSON they came from."""
    import json as _json

    from PIL import Image

    from hipspine.spinopelvic import measure_landmarks

    doc = _json.loads((shared_dir / "examples" / "landmarks.json").read_text())
    shift = 800.0  # the example's C7 lies above its image; move everything into view
    for view in ("standing", "sitting"):
        for key, (x, y) in list(doc[view].items()):
            doc[view][key] = [x, y + shift]
    width, height = 1800, 3400
    Image.new("L", (width, height), 40).save(tmp_path / "radiograph.png")
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/spinopelvic")
    page.click("#click-landmarks summary")
    page.set_input_files("#radiograph", str(tmp_path / "radiograph.png"))
    page.wait_for_function("document.getElementById('radiograph-img').naturalWidth > 0")
    page.fill("#lm-spacing", str(doc["pixel_spacing_mm"]))
    box = page.eval_on_selector("#radiograph-img", "e => [e.clientWidth, e.clientHeight]")
    order = ["femoral_head_1", "femoral_head_2", "s1_anterior", "s1_posterior",
             "l1_anterior", "l1_posterior", "c7_centroid"]
    for view in ("standing", "sitting"):
        page.select_option("#lm-view", view)
        for key in order:
            if key not in doc[view]:
                continue
            page.select_option("#lm-key", key)
            x, y = doc[view][key]
            page.click("#radiograph-img", position={"x": x * box[0] / width,
                                                    "y": y * box[1] / height})
    clicked = _json.loads(page.input_value("#landmarks_text"))
    assert set(clicked["standing"]) == set(doc["standing"])
    page.click("#spinopelvic-submit")
    page.wait_for_selector("#spinopelvic-result")
    expected = measure_landmarks(doc).hip_spine_class
    assert page.inner_text("#hip-spine-class") == expected
    shot(page, "spinopelvic-clicked")


def test_red_flags_sit_above_everything(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    fill_intake(page, {"format": "hipspine.case/1", "age": 71,
                       "symptoms": {"saddle_anaesthesia": True,
                                    "bladder_bowel_dysfunction": True,
                                    "pain_locations": ["low_back", "posterior_thigh"]}})
    page.click("#assess-button")
    page.wait_for_selector("#red-flags")
    flags_top = page.eval_on_selector("#red-flags", "e => e.getBoundingClientRect().top")
    verdict_top = page.eval_on_selector("#verdict", "e => e.getBoundingClientRect().top")
    assert flags_top < verdict_top and flags_top < 300  # in the first screenful
    shot(page, "result-red-flags")
