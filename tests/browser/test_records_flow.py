"""Coming back to work in a real browser: a patient's intake pre-filled from their record,
saved once however often the result is reloaded, reopened from the patient page, and
exported as a text summary for a letter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser


def test_prefill_save_reload_reopen_and_export(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/")
    page.click("table a >> nth=0")
    page.wait_for_selector("#timeline")
    patient_url = page.url.split("#")[0]
    before = page.locator("#timeline a.reopen").count()
    page.click("#new-assessment")
    page.wait_for_selector("#intake")
    assert page.input_value('[name="age"]') != ""  # from the record, and says so
    assert page.inner_text("#src-age") == "from the patient record"
    shot(page, "intake-prefilled-from-record")
    page.click('.bodymap [data-loc="groin"] >> nth=0')
    page.check('[name="exam.faber_positive"][value="yes"]')
    page.click("#assess-button")
    page.wait_for_selector("#stored-assessment")
    result_url = page.url
    assert "/assessments/" in result_url
    page.reload()  # no second assessment
    page.wait_for_selector("#verdict")
    assert page.url == result_url
    page.goto(patient_url)
    page.wait_for_selector("#timeline")
    assert page.locator("#timeline a.reopen").count() == before + 1
    page.click("#open-latest")
    page.wait_for_selector("#stored-assessment")
    assert page.url == result_url
    shot(page, "stored-assessment")
    with page.expect_download() as info:
        page.click("#export-text")
    path = info.value.path()
    assert path is not None
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("hipspine assessment of ") and "Conclusion:" in text
