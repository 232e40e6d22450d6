"""Spinopelvic parameters against the shared example and landmark sets of known angles."""

from __future__ import annotations

import json

import pytest
from spinopelvic_builder import build_landmarks, build_view

from hipspine.errors import InputError
from hipspine.spinopelvic import load_spinopelvic_knowledge, measure_landmarks
from hipspine.spinopelvic.measure import classify, schwab_grade

KB = load_spinopelvic_knowledge()


def test_shared_example_matches_hand_calculation(shared_dir):
    # Hand calculation from the coordinates: SS = atan(144.63/172.36), PT = atan(98.76/464.6),
    # LL = L1 slope atan(51.76/193.19) + SS, SVA = (1100 - 1000) px * 0.2 mm.
    doc = json.loads((shared_dir / "examples" / "landmarks.json").read_text())
    r = measure_landmarks(doc)
    assert r.standing.ss == pytest.approx(40.0, abs=0.5)
    assert r.standing.pt == pytest.approx(12.0, abs=0.5)
    assert r.standing.pi == pytest.approx(52.0, abs=0.5)
    assert r.standing.ll == pytest.approx(55.0, abs=0.5)
    assert r.standing.sva_mm == pytest.approx(20.0, abs=0.5)
    assert r.sitting is not None and r.sitting.ss == pytest.approx(18.0, abs=0.5)
    assert r.delta_ss == pytest.approx(22.0, abs=0.5)
    assert r.hip_spine_class == "1A"
    assert r.sitting.ll is None and "l1_anterior" in r.sitting.not_computable["ll"]


@pytest.mark.parametrize(("pi", "pt", "ll", "sva"), [
    (52, 12, 55, 20), (35, 5, 40, -30), (70, 30, 45, 80), (60, 25, 25, 120),
    (45, -5, 60, 0), (80, 40, 30, 150),
])
@pytest.mark.parametrize("facing", ["right", "left"])
def test_generated_angles_are_recovered(pi, pt, ll, sva, facing):
    doc = build_landmarks(build_view(pi, pt, ll, sva, facing=facing), facing=facing)
    r = measure_landmarks(doc).standing
    assert r.pi == pytest.approx(pi, abs=0.5)
    assert r.pt == pytest.approx(pt, abs=0.5)
    assert r.ss == pytest.approx(pi - pt, abs=0.5)
    assert r.ll == pytest.approx(ll, abs=0.5)
    assert r.pi_ll == pytest.approx(pi - ll, abs=0.5)
    assert r.sva_mm == pytest.approx(sva, abs=0.5)
    assert r.pi == pytest.approx(r.pt + r.ss, abs=0.051)


def test_non_square_pixels_use_row_and_column_spacing():
    view = build_view(55, 15, 50, 40, row_mm=0.1, col_mm=0.25)
    r = measure_landmarks(build_landmarks(view, spacing=[0.1, 0.25])).standing
    assert (r.pi, r.pt, r.ll) == (pytest.approx(55, abs=0.5), pytest.approx(15, abs=0.5),
                                  pytest.approx(50, abs=0.5))
    assert r.sva_mm == pytest.approx(40, abs=0.5)


@pytest.mark.parametrize(("pi_ll", "delta_ss", "expected"), [
    (10.0, 10.0, "1A"), (10.1, 10.0, "2A"), (9.9, 9.9, "1B"), (10.1, 9.9, "2B"),
    (-15.0, 35.0, "1A"), (25.0, 0.0, "2B"), (10.0, -4.0, "1B"),
])
def test_hip_spine_class_at_and_around_each_boundary(pi_ll, delta_ss, expected):
    assert classify(pi_ll, delta_ss, KB)[0] == expected


@pytest.mark.parametrize(("pi_ll_true", "delta_true", "expected"), [
    (10.4, 10.4, "2A"), (9.6, 10.4, "1A"), (9.6, 9.6, "1B"), (10.4, 9.6, "2B"),
])
def test_class_from_generated_landmarks_either_side_of_boundary(pi_ll_true, delta_true,
                                                                 expected):
    pi, pt_stand = 50.0, 12.0
    ss_stand = pi - pt_stand
    standing = build_view(pi, pt_stand, ll=pi - pi_ll_true)
    sitting = build_view(pi, pi - (ss_stand - delta_true))
    assert measure_landmarks(build_landmarks(standing, sitting)).hip_spine_class == expected


@pytest.mark.parametrize(("value", "band", "grade"), [
    (9.9, "pi_ll", "0"), (10.0, "pi_ll", "+"), (20.0, "pi_ll", "+"), (20.1, "pi_ll", "++"),
    (19.9, "pt", "0"), (20.0, "pt", "+"), (30.0, "pt", "+"), (30.5, "pt", "++"),
    (39.9, "sva_mm", "0"), (40.0, "sva_mm", "+"), (95.0, "sva_mm", "+"), (95.1, "sva_mm", "++"),
    (None, "pt", None),
])
def test_schwab_modifier_bands(value, band, grade):
    assert schwab_grade(value, getattr(KB.schwab, band)) == grade


def test_stiff_and_hypermobile_flags():
    stiff = build_landmarks(build_view(50, 10, 45), build_view(50, 15, 45))
    r = measure_landmarks(stiff)
    assert r.hip_spine_class == "1B" and r.mobility == "stiff"
    assert any(f.id == "stiff_by_sacral_slope" for f in r.flags)
    hyper = build_landmarks(build_view(60, 5, 55), build_view(60, 40, 55))
    r = measure_landmarks(hyper)
    assert r.mobility == "hypermobile" and any(f.id == "hypermobile" for f in r.flags)


def test_flexed_seated_view_reports_lumbar_flexion_and_drops_stiffness_flag():
    doc = build_landmarks(build_view(50, 10, 45), build_view(50, 15, 45))
    doc["flexed_seated"] = build_view(50, 20, 5)
    r = measure_landmarks(doc)
    assert r.lumbar_flexion == pytest.approx(40, abs=0.5)
    assert not any(f.id == "stiff_by_sacral_slope" for f in r.flags)


def test_2b_recommends_dual_mobility_with_verified_citation():
    doc = build_landmarks(build_view(60, 25, 30), build_view(60, 28, 30))
    r = measure_landmarks(doc)
    assert r.hip_spine_class == "2B"
    (rec,) = r.recommendations
    assert "dual-mobility" in rec.text and rec.citation == "vigdorchik2021"
    assert rec.verified == "primary"


def test_missing_optional_landmarks_are_not_computable_with_why():
    view = build_view(50, 10, None, None)
    r = measure_landmarks(build_landmarks(view))
    assert r.standing.ll is None and r.standing.sva_mm is None
    assert set(r.standing.not_computable) == {"ll", "pi_ll", "sva_mm"}
    assert r.hip_spine_class is None and "L1" in r.hip_spine_class_why


def test_sva_needs_pixel_spacing():
    doc = build_landmarks(build_view(50, 10, 40, 30), spacing=None)
    r = measure_landmarks(doc)
    assert r.standing.sva_mm is None and "pixel_spacing_mm" in r.standing.not_computable["sva_mm"]
    assert r.standing.pi == pytest.approx(50, abs=0.5)


def _problem_fields(exc: InputError) -> list[str]:
    return [p.field for p in exc.problems]


def test_zero_length_s1_endplate_names_the_landmark():
    view = build_view(50, 10, 40)
    view["s1_anterior"] = list(view["s1_posterior"])
    with pytest.raises(InputError) as err:
        measure_landmarks(build_landmarks(view))
    assert "standing.s1_anterior" in _problem_fields(err.value)
    assert "zero-length S1 endplate" in str(err.value)


def test_coincident_l1_corners_name_the_landmark():
    sitting = build_view(50, 20, 30)
    sitting["l1_anterior"] = list(sitting["l1_posterior"])
    with pytest.raises(InputError) as err:
        measure_landmarks(build_landmarks(build_view(50, 10, 40), sitting))
    assert _problem_fields(err.value) == ["sitting.l1_anterior"]


def test_landmark_outside_the_image_is_named():
    doc = build_landmarks(build_view(50, 10, 40, 20))
    doc["image_size_px"] = [4000, 4000]
    doc["standing"]["c7_centroid"] = [1400.0, -5.0]
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    assert _problem_fields(err.value) == ["standing.c7_centroid"]


def test_missing_required_and_misspelt_landmarks_are_named():
    doc = build_landmarks(build_view(50, 10, 40))
    del doc["standing"]["s1_posterior"]
    doc["standing"]["s1_anterio"] = [1.0, 2.0]
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    fields = _problem_fields(err.value)
    assert "standing.s1_posterior" in fields and "standing.s1_anterio" in fields


def test_non_numeric_coordinates_are_rejected():
    doc = build_landmarks(build_view(50, 10, 40))
    doc["standing"]["femoral_head_1"] = ["a", 3]
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    assert any(f.startswith("standing.femoral_head_1") for f in _problem_fields(err.value))


def test_wrong_facing_is_caught_naming_the_landmark():
    doc = build_landmarks(build_view(50, 10, 40, 20))  # drawn facing right
    doc["facing"] = "left"
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    assert "standing.s1_anterior" in _problem_fields(err.value)
    assert "facing" in str(err.value)


def test_swapped_l1_corners_are_caught():
    doc = build_landmarks(build_view(50, 10, 40))
    st_ = doc["standing"]
    st_["l1_anterior"], st_["l1_posterior"] = st_["l1_posterior"], st_["l1_anterior"]
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    assert _problem_fields(err.value) == ["standing.l1_anterior"]


def test_upside_down_image_is_caught():
    doc = build_landmarks(build_view(50, 10, 40))
    doc["standing"] = {k: [v[0], 6000 - v[1]] for k, v in doc["standing"].items()}
    with pytest.raises(InputError) as err:
        measure_landmarks(doc)
    assert "standing.femoral_head_1" in _problem_fields(err.value)


def test_thresholds_come_from_the_knowledge_base():
    doc = build_landmarks(build_view(50, 10, 38), build_view(50, 25, 38))  # PI-LL 12, dSS 15
    assert measure_landmarks(doc).hip_spine_class == "2A"
    rule = KB.hip_spine_classification.model_copy(
        update={"flatback_pi_ll_above": 15.0, "stiff_delta_ss_below": 20.0})
    other = KB.model_copy(update={"hip_spine_classification": rule})
    assert measure_landmarks(doc, other).hip_spine_class == "1B"


def test_hip_user_index_from_deep_seated_view():
    # Standing PFA 175, deep-seated PFA 85 (hip flexion 90); LL 50 -> 20 (lumbar flexion 30).
    doc = build_landmarks(build_view(55, 12, 50, pfa=175), build_view(55, 30, 35, pfa=110))
    doc["flexed_seated"] = build_view(55, 35, 20, pfa=85)
    r = measure_landmarks(doc)
    assert r.standing.pfa == pytest.approx(175, abs=0.5)
    assert r.flexed_seated is not None and r.flexed_seated.pfa == pytest.approx(85, abs=0.5)
    assert r.hip_flexion == pytest.approx(90, abs=0.5)
    assert r.lumbar_flexion == pytest.approx(30, abs=0.5)
    assert r.hip_user_index == pytest.approx(75, abs=0.5)
    flag = next(f for f in r.flags if f.id == "hip_user_index")
    assert flag.citation == "verhaegen2022" and "75%" in flag.text


def test_stiffness_is_flagged_even_when_the_class_is_not_computable():
    doc = build_landmarks(build_view(50, 10), build_view(50, 14))  # no L1: no PI-LL
    r = measure_landmarks(doc)
    assert r.hip_spine_class is None and r.mobility == "stiff"
    assert {f.id for f in r.flags} >= {"stiff", "stiff_by_sacral_slope"}
