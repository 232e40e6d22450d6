"""Accessibility basics in a real browser: every control labelled, body map by keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


@pytest.mark.parametrize("path", ["/intake", "/spinopelvic", "/", "/self-report"])
def test_every_visible_control_has_a_label(page: Any, server: str, path: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(server + path)
    assert page.evaluate(UNLABELLED) == []


def test_body_map_works_from_the_keyboard(page: Any, server: str) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/intake")
    page.focus('.bodymap [data-loc="buttock"][tabindex="0"]')
    page.keyboard.press("Space")
    assert page.is_checked('input[name="symptoms.pain_locations"][value="buttock"]')
    assert page.get_attribute('.bodymap [data-loc="buttock"] >> nth=0', "aria-checked") == "true"
