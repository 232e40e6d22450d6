"""The drawing: one scale for every view, and no label on top of another or of a point."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from tests.spinopelvic.spinopelvic_builder import build_view

from hipspine.spinopelvic import measure_landmarks, parse_landmarks
from hipspine.spinopelvic.picture import _overlaps, layout, render_svg, text_box


def _example(shared_dir: Path) -> Any:
    return parse_landmarks((shared_dir / "examples" / "landmarks.json").read_text())


def _built() -> Any:
    return parse_landmarks(json.dumps({
        "format": "hipspine.landmarks/1", "pixel_spacing_mm": 0.2, "facing": "right",
        "standing": build_view(52, 15, ll=55, sva_mm=20, pfa=180),
        "sitting": build_view(52, 35, ll=20, sva_mm=60, pfa=110),
        "flexed_seated": build_view(52, 40, ll=10, sva_mm=80, pfa=95)}))


def _check_no_overlap(marks: Any) -> None:
    result = measure_landmarks(marks)
    panels = layout(marks, result)
    for panel in panels:
        boxes = [label.box for label in panel.labels]
        assert len(boxes) >= 4
        for (i, a), (j, b) in combinations(enumerate(boxes), 2):
            assert not _overlaps(a, b, gap=0.0), (panel.name, panel.labels[i].text,
                                                  panel.labels[j].text)
        for label in panel.labels:
            for _, point in [(n, getattr(panel.view, n)) for n in type(panel.view).model_fields
                             if getattr(panel.view, n) is not None]:
                px, py = panel.tx(point)
                assert not _overlaps(label.box, (px - 4, py - 4, px + 4, py + 4), gap=0.0), (
                    panel.name, label.text, point)


def test_example_labels_do_not_overlap(shared_dir: Path) -> None:
    _check_no_overlap(_example(shared_dir))


def test_built_three_view_labels_do_not_overlap() -> None:
    _check_no_overlap(_built())


def test_close_points_are_the_hard_case() -> None:
    """Without the collision pass the femoral-head labels of the example sit on each other."""
    marks = _built()
    panel = layout(marks, measure_landmarks(marks))[0]
    h1, h2 = (panel.tx(getattr(panel.view, k)) for k in ("femoral_head_1", "femoral_head_2"))
    naive = [text_box("femoral_head_1", h1[0] + 6, h1[1] - 6, 11),
             text_box("femoral_head_2", h2[0] + 6, h2[1] - 6, 11)]
    assert _overlaps(*naive, gap=0.0)


def test_all_views_share_one_scale(shared_dir: Path) -> None:
    for marks in (_example(shared_dir), _built()):
        result = measure_landmarks(marks)
        panels = layout(marks, result)
        assert len(panels) >= 2
        scales = {p.scale for p in panels}
        assert len(scales) == 1
        svg = render_svg(marks, result)
        drawn = set(re.findall(r'data-scale="([0-9.]+)"', svg))
        assert len(drawn) == 1 and float(drawn.pop()) == pytest.approx(scales.pop(), rel=1e-5)
        # The same image distance is the same picture distance in every panel.
        lengths = []
        for p in panels:
            a, b = p.tx((0.0, 0.0)), p.tx((100.0, 0.0))
            lengths.append(b[0] - a[0])
        assert max(lengths) == pytest.approx(min(lengths))


def test_svg_draws_the_laid_out_labels(shared_dir: Path) -> None:
    marks = _example(shared_dir)
    result = measure_landmarks(marks)
    svg = render_svg(marks, result)
    for panel in layout(marks, result):
        for label in panel.labels:
            assert f'<text x="{label.x:.1f}" y="{label.y:.1f}"' in svg, label.text
    widths = re.match(r'<svg [^>]*width="(\d+)" height="(\d+)"', svg)
    assert widths is not None
    bottom = max(lb.box[3] for p in layout(marks, result) for lb in p.labels)
    assert int(widths.group(2)) >= bottom
