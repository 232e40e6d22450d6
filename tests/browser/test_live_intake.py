"""The intake as one screen with an instant estimate: toggling findings re-renders the
estimate panel without submitting, the red-flag questions come first, the toggles work from
the keyboard, and without JavaScript the form still submits as before."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser

HIP = '#estimate-sources li[data-source="hip"]'
SPINE = '#estimate-sources li[data-source="spine"]'


def _p(page: Any, selector: str) -> float:
    return float(page.get_attribute(selector, "data-probability"))


def _panel(page: Any) -> str:
    return str(page.inner_html("#estimate-body"))


def _wait_for_change(page: Any, before: str) -> str:
    """The panel re-rendered with something new (the server's fragment, swapped in)."""
    page.wait_for_function("before => document.querySelector('#estimate-body').innerHTML"
                           " !== before && !!document.querySelector('#estimate-verdict')",
                           arg=before)
    return _panel(page)


def test_toggling_findings_updates_the_estimate_without_submitting(page: Any,
                                                                  server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    page.wait_for_selector("#estimate-verdict")  # the first estimate, on load
    url = page.url
    page.fill('[name="age"]', "64")
    page.select_option('[name="sex"]', "female")
    page.wait_for_timeout(500)  # past the debounce: the estimate for age and sex is asked
    page.wait_for_load_state("networkidle")  # ... and answered
    panel = _panel(page)
    hip0, spine0 = _p(page, HIP), _p(page, SPINE)
    page.click('.bodymap [data-loc="groin"] >> nth=0')  # groin pain: the spine less likely
    page.wait_for_function("([sel, before]) => { const el = document.querySelector(sel);"
                           " return !!el && Number(el.dataset.probability) < before; }",
                           arg=[SPINE, spine0])
    panel = _panel(page)
    assert _p(page, SPINE) < spine0
    page.check('[name="exam.faber_positive"][value="yes"]')
    panel = _wait_for_change(page, panel)
    page.fill('[name="exam.hip_internal_rotation_deg"]', "10")  # typed: debounced
    # the panel may first show an answer to an earlier toggle: wait for the one that counts
    page.wait_for_function("([sel, before]) => { const el = document.querySelector(sel);"
                           " return !!el && Number(el.dataset.probability) > before; }",
                           arg=[HIP, hip0])
    panel = _panel(page)
    assert _p(page, HIP) > hip0
    assert page.url == url  # nothing was submitted
    assert page.get_attribute("#estimate-verdict", "data-verdict") in ("hip", "both")
    shot(page, "intake-live-estimate")
    # a red flag shows in the panel as soon as it is answered
    page.check('[name="symptoms.saddle_anaesthesia"][value="yes"]')
    page.wait_for_selector("#estimate-red-flags")
    assert "Saddle anaesthesia" in page.inner_text("#estimate-red-flags")
    # a number out of range: the panel names the problem, the page stays
    page.fill('[name="age"]', "7")
    page.wait_for_selector("#estimate-problems")
    assert "age" in page.inner_text("#estimate-problems").lower()
    assert page.url == url


def test_red_flag_questions_come_first(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    first = page.locator("#intake fieldset").first
    assert first.get_attribute("id") == "sec-red_flags"
    names = first.locator('input[type="radio"]').evaluate_all(
        "els => [...new Set(els.map(e => e.name))]")
    assert "symptoms.saddle_anaesthesia" in names and "symptoms.fever" in names
    red_top = first.bounding_box()["y"]
    faber_top = page.locator('[name="exam.faber_positive"]').first.bounding_box()["y"]
    assert red_top < faber_top


def test_a_toggle_works_from_the_keyboard(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    page.wait_for_selector("#estimate-verdict")
    name = "symptoms.saddle_anaesthesia"
    page.focus(f'[name="{name}"][value=""]')  # the checked one: where Tab lands
    assert page.is_checked(f'[name="{name}"][value=""]')
    page.keyboard.press("ArrowLeft")  # not known -> no
    assert page.is_checked(f'[name="{name}"][value="no"]')
    page.keyboard.press("ArrowLeft")  # no -> yes
    assert page.is_checked(f'[name="{name}"][value="yes"]')
    focused = page.evaluate("document.activeElement.name + '=' + document.activeElement.value")
    assert focused == f"{name}=yes"
    ring = page.eval_on_selector(f'[name="{name}"][value="yes"] + span',
                                 "e => getComputedStyle(e).outlineStyle")
    assert ring != "none"  # the focus is visible
    page.wait_for_selector("#estimate-red-flags")  # the live panel has it
    # Tab leaves the group for the next question (one tab stop per toggle)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") != name
    # and the choice is what the form submits
    page.click("#assess-button")
    page.wait_for_selector("#red-flags")
    assert "Saddle anaesthesia" in page.inner_text("#red-flags")


def test_without_javascript_the_form_submits_as_before(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server, "clinician", "demo-clinician")
        page.goto(f"{server}/intake")
        assert page.is_visible("#estimate-placeholder")
        page.fill('[name="age"]', "66")
        page.check('[name="exam.faber_positive"][value="yes"]')
        page.check('input[name="symptoms.pain_locations"][value="groin"]')
        page.click("#assess-button")
        page.wait_for_selector("#verdict")
        assert page.url.endswith("/intake")
    finally:
        context.close()


def test_a_refused_estimate_says_so_in_the_panel(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    page.wait_for_selector("#estimate-verdict")
    page.eval_on_selector('#intake [name="csrf_token"]', "e => e.value = 'stale'")  # as if expired
    page.check('[name="symptoms.fever"][value="yes"]')
    page.wait_for_function("document.querySelector('#estimate-body').textContent"
                           ".includes('could not be updated')")
    assert not page.is_visible("#estimate-verdict")
