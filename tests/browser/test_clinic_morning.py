"""A clinician's morning in a real browser: three patients, each with an intake answered by
toggles while the estimate updates, saved, its result summary and plan read; then
yesterday's assessment reopened with its reasons and its own date; then printed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from tests.browser.conftest import SCREENSHOTS, shot, sign_in

pytestmark = pytest.mark.browser

# Answers given by toggle for each patient of the morning (field, value).
MORNING = [
    [("symptoms.neurogenic_claudication", "yes"), ("symptoms.relief_forward_flexion", "yes"),
     ("exam.faber_positive", "no")],
    [("exam.faber_positive", "yes"), ("symptoms.neurogenic_claudication", "no")],
    [("symptoms.neurogenic_claudication", "yes"), ("exam.faber_positive", "yes")],
]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A demo clinic on its own registry (so yesterday can be made yesterday)."""
    from tests.web.conftest import served_with_logs

    from hipspine.registry import get_engine
    from hipspine.web.app import create_app
    from hipspine.web.demo import prepare_demo
    from hipspine.web.settings import WebSettings

    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('morning') / 'r.sqlite'}")
    prepare_demo(engine, patients=6, seed=5)
    app = create_app(WebSettings(secret_key="morning", login_max_attempts=50), engine=engine)
    with served_with_logs(app, "warning", ()) as (base, _logs):
        yield base, engine
    engine.dispose()


def _patients(page: Any, base: str) -> list[str]:
    page.goto(f"{base}/")
    links = page.locator('table a[href^="/patients/"]')
    return [str(links.nth(i).get_attribute("href")) for i in range(3)]


def _assess(page: Any, base: str, patient: str, answers: list[tuple[str, str]]) -> str:
    """Open the patient, start an assessment, answer by toggles, save; the result's URL."""
    page.goto(f"{base}{patient}")
    page.wait_for_selector("#timeline")
    page.click("#new-assessment")
    page.wait_for_selector("#estimate-verdict")  # the live estimate is there from the start
    first = page.inner_html("#estimate-body")
    for field, value in answers:
        page.check(f'[name="{field}"][value="{value}"]')
    page.wait_for_function("before => document.querySelector('#estimate-body').innerHTML"
                           " !== before", arg=first)
    page.click("#assess-button")
    page.wait_for_selector("#summary")
    return str(page.url)


def test_a_clinicians_morning(page: Any, clinic: tuple[str, Any]) -> None:
    from sqlalchemy import update

    from hipspine.registry import session_scope
    from hipspine.registry.tables import StoredAssessment

    base, engine = clinic
    sign_in(page, base, "clinician", "demo-clinician")
    patients = _patients(page, base)
    # yesterday: one assessment of the first patient, dated the day before
    yesterday_url = _assess(page, base, patients[0], MORNING[0])
    yesterday = dt.date.today() - dt.timedelta(days=1)
    aid = int(yesterday_url.rstrip("/").rsplit("/", 1)[1])
    with session_scope(engine) as s:
        s.execute(update(StoredAssessment).where(StoredAssessment.id == aid)
                  .values(created_at=dt.datetime.combine(yesterday, dt.time(16, 30))))

    # the morning: three patients, each assessed by toggles, summary and plan read
    for n, (patient, answers) in enumerate(zip(patients, MORNING, strict=True)):
        url = _assess(page, base, patient, answers)
        assert "/assessments/" in url
        summary = page.inner_text("#summary")
        assert page.get_attribute("#verdict", "data-verdict") in (
            "hip", "spine", "both", "other", "indeterminate")
        assert "Next test" in summary and "Red flags" in summary
        assert page.is_visible("#plan") and page.locator("#plan li").count() > 0
        shot(page, f"morning-patient-{n + 1}")

    # yesterday's assessment, reopened from the patient page with its reasons and date
    page.goto(f"{base}{patients[0]}")
    page.wait_for_selector("#timeline")
    reopen = page.locator(f'#timeline a.reopen[data-assessment-id="{aid}"]')
    assert reopen.count() == 1
    assert yesterday.isoformat() in page.inner_text("#timeline")
    reopen.click()
    page.wait_for_selector("#summary")
    assert page.url == yesterday_url
    assert yesterday.isoformat() in page.inner_text("#assessed-on")
    page.click("#reasoning summary")  # the reasons, one click away
    assert page.is_visible("#reasoning")

    # printing: the record without the navigation, the disclaimer and versions kept
    page.emulate_media(media="print")
    assert not page.is_visible("header.top nav") and not page.is_visible("#assessment-exports")
    assert "Decision support" in page.inner_text("footer")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "morning-yesterday-printed.pdf"))
    assert (SCREENSHOTS / "morning-yesterday-printed.pdf").stat().st_size > 10_000
