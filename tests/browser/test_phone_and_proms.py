"""Phone layouts, the one-page PROM entry, patient links and the patient page in words.

At a 390 px phone no page scrolls sideways (wide tables scroll inside their own box); the
ODI's ten items fit in about one screen at desktop width and the saved score is shown with
the instrument's name; a patient's link page shows no clinician navigation; the link issued
has a copy button.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.browser.conftest import shot, sign_in
from tests.browser.test_clinic_flow import fill_intake

pytestmark = pytest.mark.browser

PHONE_WIDTH = 390

WIDEST = """() => {
  const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > w + 1)
    .filter(e => !e.closest('.table-wrap'))
    .slice(0, 8)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
              (e.className && typeof e.className === 'string' ? '.' + e.className : '') +
              ' right=' + Math.round(e.getBoundingClientRect().right));
}"""


def assert_fits(page: Any, name: str) -> None:
    """No sideways scroll at phone width; on failure, name what sticks out."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, f"phone-{name}")
    assert width <= PHONE_WIDTH, f"{name}: scrollWidth {width}; {page.evaluate(WIDEST)}"


def first_patient(page: Any, server: str) -> str:
    page.goto(f"{server}/")
    page.click("table a >> nth=0")
    page.wait_for_selector("#timeline")
    return str(page.url.split("#")[0].split("?")[0])


def test_phone_pages_do_not_scroll_sideways(phone: Any, server: str, shared_dir: Any,
                                            example_cases: dict[str, Any]) -> None:
    sign_in(phone, server, "clinician", "demo-clinician")
    phone.goto(f"{server}/")
    assert_fits(phone, "home")
    # the navigation wraps within the width
    nav_right = phone.eval_on_selector("header.top", "e => e.scrollWidth")
    assert nav_right <= PHONE_WIDTH

    case = example_cases["hip-dominant"]
    phone.goto(f"{server}/intake")
    fill_intake(phone, case)
    phone.click("#assess-button")
    phone.wait_for_selector("#verdict")
    phone.eval_on_selector_all("details", "ds => ds.forEach(d => d.open = true)")
    assert_fits(phone, "result")

    patient_url = first_patient(phone, server)
    phone.goto(patient_url.replace("/patients/", "/intake?patient_id="))
    phone.wait_for_selector("#assess-button")
    fill_intake(phone, {k: v for k, v in case.items() if k not in ("age", "sex")})
    phone.click("#assess-button")
    phone.wait_for_selector("#verdict")
    assert re.search(r"/patients/\d+/assessments/\d+$", phone.url)
    phone.eval_on_selector_all("details", "ds => ds.forEach(d => d.open = true)")
    assert_fits(phone, "stored-assessment")

    phone.goto(patient_url)
    phone.wait_for_selector("#timeline")
    assert_fits(phone, "patient")

    phone.goto(f"{server}/spinopelvic")
    phone.set_input_files("#landmarks_file", str(shared_dir / "examples" / "landmarks.json"))
    phone.click("#spinopelvic-submit")
    phone.wait_for_selector("#spinopelvic-result")
    assert_fits(phone, "spinopelvic")
    # the parameter table is not clipped: every column is in view without scrolling
    wrap = phone.eval_on_selector("#spinopelvic-result .table-wrap",
                                  "e => [e.scrollWidth, e.clientWidth]")
    assert wrap[0] <= wrap[1], f"spinopelvic table {wrap[0]} px in a {wrap[1]} px box"


def test_odi_fits_one_screen_and_its_score_shows_after_saving(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    patient_url = first_patient(page, server)
    page.click('#proms a[href*="instrument=odi"]')
    page.wait_for_selector("#prom-submit")
    height = page.eval_on_selector("form.prom-form", "e => e.getBoundingClientRect().height")
    viewport = page.evaluate("window.innerHeight")
    shot(page, "prom-odi-desktop")
    assert height <= 1.5 * viewport, f"ODI form {height:.0f} px for a {viewport} px screen"
    answers = [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]  # the form's own worked example: 32 %
    for index, value in enumerate(answers):
        page.check(f'input[name="item_{index}"][value="{value}"]')
    page.fill("#administered_on", "2026-11-20")
    page.click("#prom-submit")
    page.wait_for_selector("#prom-saved")
    assert page.url.startswith(patient_url)
    notice = page.inner_text("#prom-saved")
    assert "Oswestry Disability Index" in notice and "32 %" in notice, notice
    assert "2026-11-20" in page.inner_text("#timeline")
    shot(page, "prom-odi-saved")


def test_odi_on_a_phone_fits_and_can_be_answered(phone: Any, server: str) -> None:
    sign_in(phone, server, "clinician", "demo-clinician")
    first_patient(phone, server)
    phone.click('#proms a[href*="instrument=odi"]')
    phone.wait_for_selector("#prom-submit")
    assert_fits(phone, "prom-odi")
    phone.check('input[name="item_0"][value="5"]')
    assert phone.is_checked('input[name="item_0"][value="5"]')


def _issue_link(page: Any, server: str) -> str:
    first_patient(page, server)
    page.select_option("#l-instrument", "nrs_leg")
    page.select_option("#l-timepoint", "12m")
    page.click("#links button[type=submit] >> text=Make a link")
    page.wait_for_selector("#link-url")
    return str(page.input_value("#link-url"))


def test_link_page_copy_button_and_words(browser: Any, server: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server, "clinician", "demo-clinician")
        url = _issue_link(page, server)
        text = page.inner_text("main")
        assert "12 months" in text, text  # the timepoint in words
        assert re.search(r"expires in 14 days", text), text
        page.click("#copy-link")
        page.wait_for_selector("#copy-status:has-text('Copied')")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == url
        shot(page, "link-issued")
        page.click("text=Back to")
        page.wait_for_selector("#links")
        links = page.inner_text("#links")
        assert "12 months" in links and "Numeric rating scale, leg pain" in links
    finally:
        context.close()


def test_copy_without_clipboard_selects_the_link(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    url = _issue_link(page, server)
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page.click("#copy-link")
    selected = page.evaluate("(() => { const e = document.getElementById('link-url');"
                             " return e.value.substring(e.selectionStart, e.selectionEnd); })()")
    assert selected == url
    assert page.inner_text("#copy-status") != ""


def test_patient_facing_link_page_has_no_clinician_navigation(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    url = _issue_link(page, server)
    patient = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = patient.new_page()
        phone.goto(url)
        phone.wait_for_selector("#prom-submit")
        assert phone.query_selector("header.top nav") is None
        assert phone.query_selector('a[href="/intake"]') is None
        assert_fits(phone, "patient-link-form")
        phone.check('input[name="item_0"][value="4"]')
        phone.click("#prom-submit")
        phone.wait_for_selector("text=Thank you")
        assert phone.query_selector("header.top nav") is None
        shot(phone, "patient-link-thanks")
    finally:
        patient.close()
    # even a signed-in clinician opening the patient's page sees no navigation there
    page.goto(url)
    page.wait_for_selector("h1")
    assert page.query_selector("header.top nav") is None
    assert page.query_selector("form.logout") is None
