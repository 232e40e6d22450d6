"""Spinopelvic parameters, Hip-Spine Classification and SRS-Schwab modifiers from landmarks.

Pure: receives validated `Landmarks` and the loaded `SpinopelvicKnowledge`; no I/O. The
numbers that decide a class live in `knowledge/spinopelvic/classification.yaml`.
"""

from __future__ import annotations

from hipspine.errors import InputError, Problem
from hipspine.kb import knowledge_version
from hipspine.models.landmarks import (
    Flag,
    HipSpineClass,
    Landmarks,
    Mobility,
    Point,
    Recommendation,
    SchwabGrade,
    SchwabModifiers,
    SpinopelvicResult,
    View,
    ViewParameters,
)
from hipspine.spinopelvic import geometry as g
from hipspine.spinopelvic.knowledge import Band, SpinopelvicKnowledge
from hipspine.version import ENGINE_VERSION

MIN_ENDPLATE_PX = 1.0
"""Endplates shorter than one pixel cannot define an angle (coincident corners)."""


def frame_for(landmarks: Landmarks) -> g.Frame:
    """Pixel-to-millimetre frame; without a pixel spacing, 1 unit per pixel (angles only)."""
    spacing = landmarks.pixel_spacing_mm
    if spacing is None:
        return g.Frame(landmarks.facing)
    if isinstance(spacing, tuple):
        return g.Frame(landmarks.facing, row_mm=spacing[0], col_mm=spacing[1])
    return g.Frame(landmarks.facing, row_mm=spacing, col_mm=spacing)


def check_landmarks(landmarks: Landmarks) -> None:
    """Reject geometry no measurement can come from, naming the landmark at fault."""
    problems: list[Problem] = []
    views = {"standing": landmarks.standing, "sitting": landmarks.sitting,
             "flexed_seated": landmarks.flexed_seated}
    for view_name, view in views.items():
        if view is None:
            continue
        if landmarks.image_size_px is not None:
            width, height = landmarks.image_size_px
            for name in View.model_fields:
                point = getattr(view, name)
                if point is not None and not (0 <= point[0] <= width and 0 <= point[1] <= height):
                    problems.append(Problem(
                        f"{view_name}.{name}", list(point),
                        f"a point inside the image (x 0-{width}, y 0-{height} px)",
                        "landmark outside the image"))
        if g.length(view.s1_posterior, view.s1_anterior) < MIN_ENDPLATE_PX:
            problems.append(Problem(
                f"{view_name}.s1_anterior", list(view.s1_anterior),
                "a point distinct from s1_posterior",
                "zero-length S1 endplate: s1_anterior and s1_posterior coincide"))
        if view.l1_anterior is not None and view.l1_posterior is not None and (
                g.length(view.l1_posterior, view.l1_anterior) < MIN_ENDPLATE_PX):
            problems.append(Problem(
                f"{view_name}.l1_anterior", list(view.l1_anterior),
                "a point distinct from l1_posterior",
                "zero-length L1 endplate: l1_anterior and l1_posterior coincide"))
        hip_axis = g.midpoint(view.femoral_head_1, view.femoral_head_2)
        s1_mid = g.midpoint(view.s1_posterior, view.s1_anterior)
        if g.length(hip_axis, s1_mid) < MIN_ENDPLATE_PX:
            problems.append(Problem(
                f"{view_name}.femoral_head_1", list(view.femoral_head_1),
                "femoral head centres away from the S1 endplate",
                "the hip axis coincides with the S1 endplate midpoint"))
        problems.extend(_orientation_problems(view_name, view, landmarks))
    if problems:
        raise InputError(problems, what="landmarks")


def _orientation_problems(view_name: str, view: View, landmarks: Landmarks) -> list[Problem]:
    """Anatomy no radiograph shows: a swapped corner pair or the wrong `facing`.

    The anterior corner of an endplate always lies anterior to its posterior corner, and the
    femoral heads lie below the sacral endplate; violating either means the measurement
    would be meaningless, so the landmark is named instead of an angle being reported.
    """
    frame = g.Frame(landmarks.facing)
    hint = (f"check that the landmarks are not swapped and that facing "
            f"({landmarks.facing!r}) is the direction the patient faces")
    out: list[Problem] = []
    pairs = [("s1_anterior", "s1_posterior")]
    if view.l1_anterior is not None and view.l1_posterior is not None:
        pairs.append(("l1_anterior", "l1_posterior"))
    for anterior, posterior in pairs:
        a = frame.to_anatomical(getattr(view, anterior))
        p = frame.to_anatomical(getattr(view, posterior))
        if g.length(getattr(view, anterior), getattr(view, posterior)) < MIN_ENDPLATE_PX:
            continue  # reported as a zero-length endplate
        if a[0] <= p[0]:
            out.append(Problem(f"{view_name}.{anterior}", list(getattr(view, anterior)),
                               f"a point anterior to {posterior}",
                               f"{anterior} lies posterior to {posterior}: {hint}"))
    hip = frame.to_anatomical(g.midpoint(view.femoral_head_1, view.femoral_head_2))
    s1_mid = frame.to_anatomical(g.midpoint(view.s1_posterior, view.s1_anterior))
    if hip[1] >= s1_mid[1]:
        out.append(Problem(f"{view_name}.femoral_head_1", list(view.femoral_head_1),
                           "femoral head centres below the S1 endplate",
                           "the hip axis lies level with or above the S1 endplate "
                           "(image upside down, or landmarks swapped)"))
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def view_parameters(view: View, frame: g.Frame, has_spacing: bool,
                    want_pfa: bool = True) -> ViewParameters:
    """PI, PT, SS, LL, PI-LL and SVA for one view (PRODUCT.md section 5 definitions)."""
    p = frame.to_anatomical
    s1p, s1a = p(view.s1_posterior), p(view.s1_anterior)
    hip_axis = g.midpoint(p(view.femoral_head_1), p(view.femoral_head_2))
    ss = g.sacral_slope(s1p, s1a)
    pt = g.pelvic_tilt(s1p, s1a, hip_axis)
    pi = g.pelvic_incidence(s1p, s1a, hip_axis)
    why: dict[str, str] = {}
    ll = sva = None
    if view.l1_anterior is not None and view.l1_posterior is not None:
        ll = g.lumbar_lordosis(p(view.l1_posterior), p(view.l1_anterior), s1p, s1a)
    else:
        missing = [n for n in ("l1_anterior", "l1_posterior") if getattr(view, n) is None]
        reason = f"landmark {' and '.join(missing)} not given"
        why["ll"] = reason
        why["pi_ll"] = reason
    if view.c7_centroid is None:
        why["sva_mm"] = "landmark c7_centroid not given"
    elif not has_spacing:
        why["sva_mm"] = "pixel_spacing_mm not given (pass it, or --dicom to read it)"
    else:
        sva = g.sagittal_vertical_axis(p(view.c7_centroid), s1p)
    pfa = None
    if view.femoral_shaft is None:
        if want_pfa:
            why["pfa"] = "landmark femoral_shaft not given"
    else:
        pfa = g.pelvic_femoral_angle(s1p, s1a, hip_axis, p(view.femoral_shaft))
    # Round PT and SS first and derive PI from them, so PI = PT + SS holds in the output.
    pt_r, ss_r = _round(pt), _round(ss)
    pi_r = round(pt_r + ss_r, 1) if pt_r is not None and ss_r is not None else _round(pi)
    ll_r = _round(ll)
    pi_ll_r = round(pi_r - ll_r, 1) if pi_r is not None and ll_r is not None else None
    return ViewParameters(pi=pi_r, pt=pt_r, ss=ss_r, ll=ll_r, pi_ll=pi_ll_r,
                          sva_mm=_round(sva), pfa=_round(pfa), not_computable=why)


def schwab_grade(value: float | None, band: Band) -> SchwabGrade | None:
    """0 below `moderate_from`, + up to and including `marked_above`, ++ above it."""
    if value is None:
        return None
    if value > band.marked_above:
        return "++"
    if value >= band.moderate_from:
        return "+"
    return "0"


def classify(pi_ll: float | None, delta_ss: float | None,
             kb: SpinopelvicKnowledge) -> tuple[HipSpineClass | None, str]:
    """Hip-Spine Classification (Vigdorchik 2021): 1/2 by PI-LL, A/B by delta SS."""
    rule = kb.hip_spine_classification
    if pi_ll is None:
        return None, "not computable: standing PI-LL needs the L1 endplate landmarks"
    if delta_ss is None:
        return None, "not computable: delta SS needs a sitting view"
    group = "2" if pi_ll > rule.flatback_pi_ll_above else "1"
    mobility = "B" if delta_ss < rule.stiff_delta_ss_below else "A"
    cls: HipSpineClass = f"{group}{mobility}"  # type: ignore[assignment]
    why = (f"standing PI-LL {pi_ll:g} deg "
           f"{'>' if group == '2' else '<='} {rule.flatback_pi_ll_above:g} "
           f"({'flatback' if group == '2' else 'normal alignment'}); delta SS {delta_ss:g} deg "
           f"{'<' if mobility == 'B' else '>='} {rule.stiff_delta_ss_below:g} "
           f"({'stiff' if mobility == 'B' else 'normal mobility'})")
    return cls, why


def mobility_of(delta_ss: float | None, kb: SpinopelvicKnowledge) -> Mobility | None:
    if delta_ss is None:
        return None
    if delta_ss < kb.mobility.stiff_delta_ss_below:
        return "stiff"
    if delta_ss > kb.mobility.hypermobile_delta_ss_above:
        return "hypermobile"
    return "normal"


def measure(landmarks: Landmarks, kb: SpinopelvicKnowledge) -> SpinopelvicResult:
    """Measure every view, then classify. Raises `InputError` naming a bad landmark."""
    check_landmarks(landmarks)
    frame = frame_for(landmarks)
    has_spacing = landmarks.pixel_spacing_mm is not None
    # PFA is an extension: only say it is missing when some view asked for it.
    want_pfa = any(v is not None and v.femoral_shaft is not None for v in
                   (landmarks.standing, landmarks.sitting, landmarks.flexed_seated))
    standing = view_parameters(landmarks.standing, frame, has_spacing, want_pfa)
    sitting = (view_parameters(landmarks.sitting, frame, has_spacing, want_pfa)
               if landmarks.sitting else None)
    flexed = (view_parameters(landmarks.flexed_seated, frame, has_spacing, want_pfa)
              if landmarks.flexed_seated else None)
    delta_ss = delta_pt = lumbar_flexion = None
    if sitting is not None:
        delta_ss = _sub(standing.ss, sitting.ss)
        delta_pt = _sub(sitting.pt, standing.pt)
    hip_flexion = hip_user_index = None
    if flexed is not None:
        lumbar_flexion = _sub(standing.ll, flexed.ll)
        hip_flexion = _sub(standing.pfa, flexed.pfa)
        if hip_flexion is not None and lumbar_flexion is not None and (
                hip_flexion + lumbar_flexion) > 0:
            hip_user_index = round(100 * hip_flexion / (hip_flexion + lumbar_flexion), 1)
    cls, why = classify(standing.pi_ll, delta_ss, kb)
    rules: list[str] = []
    recs: list[Recommendation] = []
    flags: list[Flag] = []
    if cls is not None:
        rules.append(f"hip_spine_class.{cls}")
        advice = kb.hip_spine_classification.groups[cls]
        recs.append(Recommendation(id=f"hip_spine_class.{cls}",
                                   text=f"{cls} ({advice.label}): {advice.recommendation}",
                                   citation=advice.citation, verified=advice.verified))
    mobility = mobility_of(delta_ss, kb)
    if mobility is not None:
        rules.append(f"mobility.{mobility}")
    if mobility == "stiff":
        flags.append(_flag(kb, "stiff"))
        if lumbar_flexion is None:
            flags.append(_flag(kb, "stiff_by_sacral_slope"))
    if mobility == "hypermobile":
        flags.append(_flag(kb, "hypermobile"))
    if delta_ss is not None and delta_ss < 0:
        flags.append(_flag(kb, "paradoxical_tilt"))
    if hip_user_index is not None:
        base = _flag(kb, "hip_user_index")
        flags.append(base.model_copy(update={
            "text": f"Hip user index {hip_user_index:g}% (hip flexion {hip_flexion:g} deg, "
                    f"lumbar flexion {lumbar_flexion:g} deg). {base.text}"}))
    schwab = SchwabModifiers(
        pi_ll=schwab_grade(standing.pi_ll, kb.schwab.pi_ll),
        pt=schwab_grade(standing.pt, kb.schwab.pt),
        sva=schwab_grade(standing.sva_mm, kb.schwab.sva_mm),
    )
    rules.extend(f"schwab.{k}.{v}" for k, v in schwab.model_dump().items() if v is not None)
    unverified = [r.id for r in recs if r.verified == "unverified"]
    unverified += [f.id for f in flags if f.verified == "unverified"]
    return SpinopelvicResult(
        engine_version=ENGINE_VERSION, knowledge_version=knowledge_version(),
        id=landmarks.id, facing=landmarks.facing, pixel_spacing_mm=landmarks.pixel_spacing_mm,
        standing=standing, sitting=sitting, flexed_seated=flexed,
        delta_ss=delta_ss, delta_pt=delta_pt, lumbar_flexion=lumbar_flexion,
        hip_flexion=hip_flexion, hip_user_index=hip_user_index,
        hip_spine_class=cls, hip_spine_class_why=why, mobility=mobility,
        schwab_modifiers=schwab, recommendations=recs, flags=flags,
        rules_fired=rules, unverified=unverified,
    )


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)


def _flag(kb: SpinopelvicKnowledge, flag_id: str) -> Flag:
    f = kb.flags[flag_id]
    return Flag(id=flag_id, text=f.text, citation=f.citation, verified=f.verified)


def points_of(view: View) -> dict[str, Point]:
    """The landmarks present in a view, by name (for drawing)."""
    return {n: getattr(view, n) for n in View.model_fields if getattr(view, n) is not None}
