"""The result page a clinician can trust (issue 14): the basis exactly as the engine counted
it, a compact summary first, no next test that cannot change the verdict, words not codes.

Real Chromium through Playwright, on the shared example cases entered through the intake.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.browser.conftest import SCREENSHOTS, shot, sign_in
from tests.browser.test_clinic_flow import fill_intake

pytestmark = pytest.mark.browser

RAW_CITEKEY = re.compile(r"\[[a-z][a-z0-9_]*\]")
RAW_FIELD_PATH = re.compile(r"\b(?:symptoms|exam|history|imaging|tests|proms)\.[a-z_]+")

STYLE = """e => { const s = getComputedStyle(e);
  return {color: s.color, fontStyle: s.fontStyle, fontWeight: s.fontWeight,
          decoration: s.textDecorationLine,
          background: getComputedStyle(e.closest('td')).backgroundColor}; }"""


def _result(page: Any, server: str, case: dict[str, Any]) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    fill_intake(page, case)
    page.click("#assess-button")
    page.wait_for_selector("#summary")


def test_not_counted_findings_look_different_and_say_why(page: Any, server: str,
                                                         example_cases: dict[str, Any]) -> None:
    import hipspine

    case = example_cases["hip-dominant"]
    a = hipspine.assess(case)
    hip = next(s for s in a.sources if s.id == "hip")
    left = [c for c in hip.contributions if not c.counted]
    expected_left_out = [c.finding for c in left]
    assert any(not c.verified for c in left), "the example has no unverified left-out figure"
    _result(page, server, case)
    page.click("#source-hip details.basis > summary")
    counted = page.locator("#source-hip tr.contribution.counted")
    left_out = page.locator("#source-hip tr.contribution.not-counted")
    assert counted.count() == sum(1 for c in hip.contributions if c.counted)
    assert left_out.count() == len(expected_left_out)
    for i, c in enumerate(left):
        row = left_out.nth(i)
        text = row.inner_text()
        assert c.finding in text
        assert "not counted:" in text  # a label with the reason, not only a colour
        if not c.verified:  # below the evidence policy
            assert "unverified" in text and "evidence policy" in text
        elif c.group:  # a stronger finding of its group counts instead
            assert "stronger finding" in text
        assert row.get_attribute("data-counted") == "false"
        assert row.locator(".tag-not-counted").inner_text() == "not counted"
    on = counted.first.locator("td >> nth=0 >> strong").evaluate(STYLE)
    off = left_out.first.locator(".finding-name").evaluate(STYLE)
    assert off["decoration"] == "line-through" and on["decoration"] == "none"
    assert off["fontStyle"] == "italic" and on["fontStyle"] == "normal"
    assert int(on["fontWeight"]) >= 600 > int(off["fontWeight"])
    assert off["color"] != on["color"] and off["background"] != on["background"]
    lr_off = left_out.first.locator("td.lr-not-counted s")
    assert lr_off.count() == 1  # the ratio is struck through: it did not produce the estimate
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#source-hip").screenshot(path=str(SCREENSHOTS / "result-counted-vs-not.png"))
    shot(page, "result-trust-basis")


def test_summary_first_verdict_diagnosis_next_test_dated(page: Any, server: str,
                                                         example_cases: dict[str, Any]) -> None:
    import datetime as dt

    import hipspine

    case = example_cases["hip-dominant"]
    a = hipspine.assess(case)
    _result(page, server, case)
    top = {sel: page.eval_on_selector(sel, "e => e.getBoundingClientRect().top")
           for sel in ("#summary", "#verdict", "#diagnosis", "#decisive",
                       "#summary-next-test", "#summary-red-flags", "#src-h")}
    assert (top["#summary"] < top["#verdict"] < top["#diagnosis"] < top["#decisive"]
            < top["#summary-next-test"] < top["#summary-red-flags"] < top["#src-h"])
    summary = page.inner_text("#summary")
    assert a.diagnosis and a.diagnosis in summary
    assert a.next_tests[0].test in page.inner_text("#summary-next-test")
    assert page.locator("#decisive li").count() in (2, 3)
    assert "None found" in page.inner_text("#summary-red-flags")
    dated = page.inner_text("#assessed-on")
    assert dt.date.today().isoformat() in dated
    assert a.engine_version in dated and a.knowledge_version in dated
    # the details are one click away, not on the first screen
    assert not page.is_visible("#source-hip table")
    assert not page.is_visible("#instruments ul")
    page.click("#instruments > summary")
    assert page.is_visible("#instruments ul")
    shot(page, "result-trust-summary")


def test_zero_chance_next_tests_are_not_listed_as_next_tests(page: Any, server: str,
                                                             example_cases: dict[str, Any]) -> None:
    import hipspine

    case = example_cases["hip-dominant"]
    a = hipspine.assess(case)
    zero = [t.test for t in a.next_tests if t.chance_verdict_changes == 0]
    assert zero, "the example no longer has a zero-chance next test"
    _result(page, server, case)
    listed = page.locator("#next-tests > li").all_inner_texts()
    assert listed and all(not any(z in li for z in zero) for li in listed)
    assert all(not re.search(r"\b0\s?% chance", li) for li in listed)
    assert "Chance the verdict changes 0%" not in page.inner_text("body")
    assert not page.is_visible("#info-only-tests ul")
    page.click("#info-only-tests > summary")
    extra = page.inner_text("#info-only-tests")
    assert all(z in extra for z in zero) and "not change the verdict" in extra
    page.locator("#next-tests").scroll_into_view_if_needed()
    shot(page, "result-trust-next-tests")


@pytest.mark.parametrize("name", ["hip-dominant", "hip-spine-syndrome"])
def test_words_not_codes(page: Any, server: str, example_cases: dict[str, Any],
                         name: str) -> None:
    import hipspine

    case = example_cases[name]
    a = hipspine.assess(case)
    _result(page, server, case)
    summary = page.inner_text("#summary")
    assert not RAW_CITEKEY.search(summary) and not RAW_FIELD_PATH.search(summary)
    for d in page.locator("details").all():  # open everything, then read the whole page
        d.evaluate("e => e.open = true")
    body = page.inner_text("main")
    assert not RAW_CITEKEY.search(body), RAW_CITEKEY.findall(body)
    assert not RAW_FIELD_PATH.search(body.replace("symptoms.", "")), RAW_FIELD_PATH.findall(body)
    instruments = page.inner_text("#instruments")
    for i in a.instruments:
        assert f"{i.id}:" not in instruments
    assert "ACR 1991 hip osteoarthritis criteria" in instruments
    tables = " ".join(page.locator("table.contributions").all_inner_texts())
    for code in ("True", "False", "None", "below_knee", "anterior_thigh"):
        assert not re.search(rf"\b{code}\b", tables), code
    # a citation names author and year, with a link to the DOI or PubMed
    links = page.locator("cite.ref a[href*='doi.org'], cite.ref a[href*='pubmed']")
    assert links.count() > 0
    if name == "hip-dominant":
        plan = page.inner_text("#plan")
        assert "NICE" in plan or "National Institute" in plan
    shot(page, f"result-trust-words-{name}")
