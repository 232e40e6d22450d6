"""ICD-10-CM descendants are expanded from the tabular list; both code systems where both exist."""

from __future__ import annotations

import pytest

from hipspine.ehr.valuesets import (
    ICD10CM,
    CodeIndex,
    ValueSet,
    expand_descendants,
    load_code_index,
    load_valuesets,
)
from hipspine.errors import KnowledgeBaseError

SCT = "http://snomed.info/sct"

# Value sets without one of the two systems, and why. ICD-10-CM has no procedure codes
# (procedures are ICD-10-PCS, a different system), so procedure, imaging, injection and
# encounter sets are CPT, LOINC or NUCC sets; SNOMED CT concepts are listed only when read,
# with their display, in an authoritative listing (VSAC expansions, the HL7 IPS SNOMED CT free
# set, OHDSI concept sets), and for these none was.
NO_ICD10CM = {
    "hip_arthroscopy": "CPT procedure set; ICD-10-CM has no procedure codes",
    "hip_imaging": "CPT and LOINC imaging set; ICD-10-CM has no procedure codes",
    "spine_imaging": "CPT and LOINC imaging set; ICD-10-CM has no procedure codes",
    "lumbar_decompression": "CPT and SNOMED CT procedure set; ICD-10-CM has no procedure codes",
    "lumbar_epidural_injection": "CPT procedure set; ICD-10-CM has no procedure codes",
    "hip_injection": "CPT procedure set; ICD-10-CM has no procedure codes",
    "spine_injection": "CPT procedure set; ICD-10-CM has no procedure codes",
    "hip_encounter": "NUCC specialty of the encounter; ICD-10-CM has no encounter types",
    "spine_encounter": "NUCC specialty of the encounter; ICD-10-CM has no encounter types",
}
NO_SNOMED = {
    **dict.fromkeys(["hip_arthroscopy", "lumbar_epidural_injection", "hip_injection",
                     "spine_injection"],
                    "no SNOMED CT concept for this procedure read in an authoritative listing"),
    **dict.fromkeys(["hip_imaging", "spine_imaging"],
                    "imaging is coded in LOINC (VSAC X-Ray Study); no SNOMED CT imaging "
                    "procedure read in an authoritative listing"),
    **dict.fromkeys(["hip_encounter", "spine_encounter"],
                    "SNOMED CT encounter types read name the setting, not the organ"),
}
# Imaging sets must carry LOINC, the code system DiagnosticReport.code and ImagingStudy use.
LOINC = "http://loinc.org"
IMAGING = ("hip_imaging", "spine_imaging")


def _systems(vs: ValueSet) -> set[str]:
    """Systems with at least one code not marked unverified (a doubtful code proves nothing)."""
    return {c.system for c in vs.codes if (c.verified or vs.verified) != "unverified"}


@pytest.mark.parametrize("vs", load_valuesets(), ids=lambda vs: vs.id)
def test_every_value_set_has_both_systems_unless_exempt(vs: ValueSet) -> None:
    systems = _systems(vs)
    assert (ICD10CM in systems) != (vs.id in NO_ICD10CM), vs.id
    assert (SCT in systems) != (vs.id in NO_SNOMED), vs.id


def test_imaging_sets_carry_loinc() -> None:
    by_id = {vs.id: vs for vs in load_valuesets()}
    for vs_id in IMAGING:
        assert LOINC in _systems(by_id[vs_id]), vs_id


def test_exemptions_name_existing_value_sets() -> None:
    ids = {vs.id for vs in load_valuesets()}
    assert set(NO_ICD10CM) | set(NO_SNOMED) <= ids


@pytest.mark.parametrize(("code", "expected"), [
    ("M16.10", "hip_oa"),             # below M16, not listed in the file
    ("M16.11", "hip_oa"),
    ("M48.062", "lumbar_stenosis"),   # below M48.06
    ("M54.50", "low_back_pain"),      # below M54.5 (FY2022 split)
    ("E11.65", "diabetes"),
    ("C50.911", "cancer_history"),    # below the breast category
    ("C79.51", "cancer_history"),     # in block C76-C80
    ("I25.10", "cardiovascular_disease"),  # in block I20-I25
])
def test_a_descendant_matches(code: str, expected: str) -> None:
    assert expected in [vs.id for vs in load_code_index().match(ICD10CM, code)]


@pytest.mark.parametrize(("code", "not_in"), [
    ("M17.11", "hip_oa"),             # knee OA: a sibling category of M16
    ("M48.05", "lumbar_stenosis"),    # thoracolumbar: a sibling of M48.06
    ("M48.08", "lumbar_stenosis"),
    ("M54.6", "low_back_pain"),       # thoracic pain: a sibling of M54.5
    ("C44.91", "cancer_history"),     # skin BCC: left out by design
    ("M54.12", "lumbar_radiculopathy"),  # cervical radiculopathy
])
def test_a_sibling_outside_does_not_match(code: str, not_in: str) -> None:
    assert not_in not in [vs.id for vs in load_code_index().match(ICD10CM, code)]


def test_listed_entry_keeps_its_laterality_over_the_expansion() -> None:
    [(vs, code)] = load_code_index().match_codes(ICD10CM, "M16.12")
    assert (vs.id, code.laterality) == ("hip_oa", "left")
    [(vs, code)] = load_code_index().match_codes(ICD10CM, "M16.10")
    assert code.laterality is None and code.display.startswith("Unilateral primary")


def _vs(*codes: dict[str, object]) -> ValueSet:
    return ValueSet(id="x", description="d", category="hip_oa", citation="icd10cm",
                    verified="secondary", codes=list(codes))


@pytest.mark.parametrize(("entry", "message"), [
    ({"system": ICD10CM, "code": "M16.99", "display": "d"}, "'M16.99' is not in the ICD-10-CM"),
    ({"system": ICD10CM, "code": "M1611", "display": "d"}, "'M16.11'"),   # write the dot
    ({"system": ICD10CM, "code": "M15-M19", "display": "d"}, "block, allowed only with"),
    ({"system": SCT, "code": "239872002", "display": "d", "descendants": True},
     "only ICD-10-CM"),
])
def test_a_code_the_tabular_list_does_not_have_is_refused(entry: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(KnowledgeBaseError, match=r"valuesets/x\.yaml") as err:
        expand_descendants(_vs(entry), "valuesets/x.yaml")
    assert message in str(err.value)


def test_the_index_refuses_an_unexpanded_bad_code_too() -> None:
    with pytest.raises(KnowledgeBaseError, match=r"value set x: ICD-10-CM code 'Z99\.999'"):
        CodeIndex([_vs({"system": ICD10CM, "code": "Z99.999", "display": "d"})], [])


def test_a_code_listed_twice_is_refused() -> None:
    entry = {"system": ICD10CM, "code": "M16.9", "display": "d"}
    with pytest.raises(KnowledgeBaseError, match="listed twice"):
        expand_descendants(_vs(entry, entry), "here")


def test_expansion_is_idempotent_and_a_block_stands_for_its_codes() -> None:
    once = expand_descendants(_vs({"system": ICD10CM, "code": "M15-M19", "display": "OA",
                                   "descendants": True}), "here")
    codes = [c.code for c in once.codes]
    assert "M15-M19" not in codes and {"M16.11", "M19.90"} <= set(codes)
    assert len(codes) == len(set(codes))
    assert expand_descendants(once, "here").codes == once.codes
