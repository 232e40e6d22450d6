"""The spinopelvic click tool in a real browser: guide, undo, drag and zoom."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1000, 1400


def _open_tool(page: Any, server: str, tmp_path: Any) -> dict[str, float]:
    from PIL import Image

    Image.new("L", (WIDTH, HEIGHT), 40).save(tmp_path / "radiograph.png")
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/spinopelvic")
    page.click("#click-landmarks summary")
    page.set_input_files("#radiograph", str(tmp_path / "radiograph.png"))
    page.wait_for_function("document.getElementById('radiograph-img').naturalWidth > 0")
    box: dict[str, float] = page.eval_on_selector(
        "#radiograph-img", "e => ({w: e.clientWidth, h: e.clientHeight})")
    return box


def _standing(page: Any) -> dict[str, list[float]]:
    doc: dict[str, Any] = json.loads(page.input_value("#landmarks_text"))
    return dict(doc.get("standing", {}))


def _click_image(page: Any, x: float, y: float) -> None:
    """Click the image at image pixel (x, y), whatever the zoom."""
    s = page.eval_on_selector("#radiograph-img", "e => e.clientWidth / e.naturalWidth")
    page.click("#radiograph-img", position={"x": x * s, "y": y * s})


def test_spinopelvic_guide_names_next_landmark_and_undo(page: Any, server: str,
                                                         tmp_path: Any) -> None:
    from hipspine.models.landmarks import LANDMARK_GUIDE

    _open_tool(page, server, tmp_path)
    guide = page.inner_text("#lm-guide")
    name, where = LANDMARK_GUIDE["femoral_head_1"]
    assert name in guide and where in guide
    _click_image(page, 300, 900)
    _click_image(page, 310, 905)
    assert page.input_value("#lm-key") == "s1_anterior"
    name, where = LANDMARK_GUIDE["s1_anterior"]
    assert name in page.inner_text("#lm-guide") and "front edge" in page.inner_text("#lm-guide")
    assert set(_standing(page)) == {"femoral_head_1", "femoral_head_2"}
    page.click("#lm-undo")
    points = _standing(page)
    assert set(points) == {"femoral_head_1"}
    assert abs(points["femoral_head_1"][0] - 300) < 3 and abs(points["femoral_head_1"][1] - 900) < 3
    assert LANDMARK_GUIDE["femoral_head_2"][0] in page.inner_text("#lm-guide")
    assert page.input_value("#lm-key") == "femoral_head_2"
    page.click("#lm-undo")
    assert _standing(page) == {}
    assert page.is_disabled("#lm-undo")


def test_spinopelvic_drag_moves_a_point(page: Any, server: str, tmp_path: Any) -> None:
    _open_tool(page, server, tmp_path)
    _click_image(page, 400, 600)
    before = _standing(page)["femoral_head_1"]
    rect = page.eval_on_selector("#radiograph-img", "e => { const r = e.getBoundingClientRect();"
                                 " return {x: r.left, y: r.top, s: r.width / e.naturalWidth}; }")
    sx, sy = rect["x"] + before[0] * rect["s"], rect["y"] + before[1] * rect["s"]
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 20, sy + 10, steps=5)
    page.mouse.move(sx + 40, sy + 30, steps=5)
    page.mouse.up()
    after = _standing(page)
    assert set(after) == {"femoral_head_1"}, "a drag places no new point"
    moved = after["femoral_head_1"]
    assert abs(moved[0] - (before[0] + 40 / rect["s"])) < 2
    assert abs(moved[1] - (before[1] + 30 / rect["s"])) < 2
    page.click("#lm-undo")  # undo takes back the move
    assert _standing(page)["femoral_head_1"] == before


def test_spinopelvic_zoom_changes_scale(page: Any, server: str, tmp_path: Any) -> None:
    box = _open_tool(page, server, tmp_path)
    _click_image(page, 500, 700)
    left = page.eval_on_selector(".lm-dot", "e => parseFloat(e.style.left)")
    page.click("#lm-zoom-in")
    page.click("#lm-zoom-in")
    zoomed = page.eval_on_selector("#radiograph-img", "e => e.clientWidth")
    assert zoomed == pytest.approx(box["w"] * 1.5, abs=2)
    assert page.inner_text("#lm-zoom-level") == "150%"
    assert page.eval_on_selector(".lm-dot", "e => parseFloat(e.style.left)") == pytest.approx(
        left * 1.5, abs=2)
    _click_image(page, 520, 760)  # a click while zoomed records image pixels still
    head_2 = _standing(page)["femoral_head_2"]
    assert abs(head_2[0] - 520) < 2 and abs(head_2[1] - 760) < 2
    shot(page, "spinopelvic-zoomed")
    page.click("#lm-zoom-reset")
    assert page.eval_on_selector("#radiograph-img", "e => e.clientWidth") == pytest.approx(
        box["w"], abs=1)


def test_spinopelvic_save_to_the_patient(page: Any, server: str, shared_dir: Any) -> None:
    sign_in(page, server, "clinician", "demo-clinician")
    page.goto(f"{server}/spinopelvic")
    token = page.input_value('input[name="csrf_token"] >> nth=0')
    created = page.request.post(f"{server}/api/v1/patients", data={"pseudonym": "SPINO-BROWSER"},
                                headers={"X-CSRF-Token": token})
    assert created.status == 201, created.text()
    pid = created.json()["id"]
    page.goto(f"{server}/spinopelvic?patient_id={pid}")
    assert "No spinopelvic result saved" in page.inner_text("#spinopelvic-patient")
    page.set_input_files("#landmarks_file", str(shared_dir / "examples" / "landmarks.json"))
    page.click("#spinopelvic-submit")
    page.wait_for_selector("#spinopelvic-save")
    klass = page.inner_text("#hip-spine-class")
    page.click("#spinopelvic-save")
    page.wait_for_selector("#spinopelvic-saved")
    saved = page.inner_text("#spinopelvic-saved")
    assert "Saved to the patient." in saved and f"Hip-spine class {klass}" in saved
    assert f"patient_id={pid}" in page.url
