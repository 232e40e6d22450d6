"""Red-flag findings in free text: imaging reports (suspected malignancy, fracture, infection)
and clinic notes (cauda equina symptoms, fever, weight loss, night pain, cancer history);
raised when stated or suspected, never when negated, historical, excluded or only asked about."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hipspine
from hipspine.models import parse_case
from hipspine.nlp import enrich_case
from hipspine.nlp.alarms import read_alarms
from hipspine.nlp.knowledge import load_nlp_knowledge

KB = load_nlp_knowledge()


def raised(text: str) -> set[str]:
    return {f.split('.', 1)[1] for f in read_alarms([text], KB)[0]}


@pytest.mark.parametrize(("text", "expected"), [
    ("MRI: central, expansive image with aggressive characteristics located at the greater "
     "trochanter of the right hip.", {"suspected_malignancy"}),
    ("Lytic lesion in the right iliac bone, concerning for metastasis.",
     {"suspected_malignancy"}),
    ("Diffuse osteoblastic metastases throughout the pelvis.", {"suspected_malignancy"}),
    ("Pathological fracture through a lytic lesion of the femoral neck.",
     {"suspected_malignancy", "fracture"}),
    ("MRI spine: posterior epidural abscess from T12 to L4.", {"infection"}),
    ("L4-5 spondylodiscitis with a small left psoas abscess.", {"infection"}),
    ("Findings suspicious for a subcapital insufficiency fracture of the right femoral neck.",
     {"fracture"}),
    ("A femoral neck stress fracture cannot be excluded; MRI recommended.", {"fracture"}),
    ("Acute L2 compression fracture.", {"fracture"}),
    ("Healing fracture of the right pubic ramus.", {"fracture"}),
    ("Fluid collection, abscess not excluded.", {"infection"}),
    ("Differential includes metastasis versus atypical haemangioma.", {"suspected_malignancy"}),
])
def test_stated_or_suspected_findings_raise_their_alarm(text: str, expected: set[str]) -> None:
    assert raised(text) == expected


@pytest.mark.parametrize("text", [
    "AP pelvis: severe joint space narrowing of the left hip with osteophytes. No fracture.",
    "No acute fracture or dislocation.",
    "No evidence of metastatic disease.",
    "Mild degenerative change. No lytic or blastic lesion.",
    "There is no discitis or osteomyelitis.",
    "Old healed fracture of the left superior pubic ramus.",
    "Chronic L2 compression fracture, unchanged.",
    "History of L1 compression fracture.",
    "MRI hip to exclude occult fracture. Findings: no fracture.",
    "Indication: ?fracture. Findings: Normal hip radiographs.",
    "Fracture risk assessment recommended.",
    "Benign bone island in the femoral head, no aggressive features.",
    "Hip and lumbar spine X-rays were normal.",
    "Fracture line not seen.",
    "Malignancy is considered unlikely.",
    "Unlikely to represent metastasis.",
    "Findings are not suggestive of malignancy.",
])
def test_negated_historical_stale_or_questioned_findings_raise_nothing(text: str) -> None:
    assert raised(text) == set()


def test_every_mention_is_kept_as_evidence_with_its_modifiers() -> None:
    _, evidence = read_alarms(["No fracture.", "Fracture of the pubic ramus."], KB,
                              sources=["imaging.reports[0]", "imaging.reports[1]"])
    assert [(e.source, e.negated, e.value) for e in evidence] == [
        ("imaging.reports[0]", True, {}), ("imaging.reports[1]", False, {"value": True})]


@given(st.sampled_from(["fracture", "metastasis", "osteomyelitis", "epidural abscess",
                        "lytic lesion", "stress fracture of the femoral neck"]),
       st.sampled_from(["No", "No evidence of", "Negative for", "No radiographic evidence of"]))
def test_a_negated_alarm_never_raises(finding: str, negation: str) -> None:
    assert raised(f"{negation} {finding}.") == set()
    assert raised(f"{finding.capitalize()}.") != set()


def test_enrich_fills_alarms_only_where_the_case_is_silent() -> None:
    report = "MRI: subcapital insufficiency fracture of the right femoral neck."
    silent = parse_case({"format": "hipspine.case/1", "imaging": {"reports": [report]}})
    said = parse_case({"format": "hipspine.case/1",
                       "imaging": {"fracture": False, "reports": [report]}})
    assert enrich_case(silent).case.imaging.fracture is True
    assert "imaging.fracture" in enrich_case(silent).from_text
    assert enrich_case(said).case.imaging.fracture is False      # the clinician's word stands
    assert "imaging.fracture" not in enrich_case(said).from_text


def test_a_fracture_in_the_report_is_an_urgent_red_flag_read_from_text() -> None:
    a = hipspine.assess({"format": "hipspine.case/1", "age": 83,
                         "imaging": {"reports": ["MRI right hip: incomplete stress fracture "
                                                 "of the femoral neck."]}})
    assert a.urgent and [f.id for f in a.red_flags] == ["fracture"]
    assert a.red_flags[0].from_text and "Morrison 2024" in a.red_flags[0].citation
    assert a.next_tests[0].kind == "red_flag"
    same_without_reader = hipspine.assess({"format": "hipspine.case/1", "age": 83,
                                           "imaging": {"fracture": True}})
    assert same_without_reader.red_flags[0].from_text is False


# --- clinic notes -------------------------------------------------------------------------

def from_notes(text: str) -> set[str]:
    return read_alarms([text], KB, "notes")[0]


@pytest.mark.parametrize(("text", "expected"), [
    ("New urinary retention and saddle numbness since yesterday.",
     {"symptoms.bladder_bowel_dysfunction", "symptoms.saddle_anaesthesia"}),
    ("68-year-old man with a 3-day history of fever, low back and right hip pain.",
     {"symptoms.fever"}),
    ("Temperature 38.6 C on arrival.", {"symptoms.fever"}),
    ("History of prostate cancer treated with radiotherapy in 2015.",
     {"history.cancer_history"}),
    ("Coded diagnosis (FHIR Condition): Malignant neoplasm of prostate; status active.",
     {"history.cancer_history"}),
    ("Reports unintentional weight loss of 6 kg over three months.",
     {"symptoms.unexplained_weight_loss"}),
    ("Pain wakes her at night.", {"symptoms.night_pain"}),
])
def test_red_flag_symptoms_and_history_are_read_from_notes(text: str, expected: set[str]
                                                          ) -> None:
    assert from_notes(text) == expected


@pytest.mark.parametrize("text", [
    "Denies bladder or bowel dysfunction and saddle anaesthesia.",
    "No red flags: no saddle anaesthesia, no bladder or bowel symptoms, no fever, no weight loss.",
    "Patient denies night pain or weight loss.",
    "Family history of breast cancer.",
    "No history of cancer.",
    "Afebrile.",
    "Rheumatic fever as a child.",
    "Intentional weight loss of 10 kg with dieting.",
    "Chronic urinary incontinence after childbirth.",
])
def test_denied_family_or_old_statements_in_notes_raise_nothing(text: str) -> None:
    assert from_notes(text) == set()


def test_report_alarms_are_not_read_from_notes_nor_note_alarms_from_reports() -> None:
    assert read_alarms(["Fracture of the femoral neck."], KB, "notes")[0] == set()
    assert read_alarms(["Fever."], KB, "reports")[0] == set()


def test_a_cauda_equina_note_is_an_emergency_read_from_text() -> None:
    a = hipspine.assess({"format": "hipspine.case/1", "age": 50,
                         "notes": ["Two days of worsening back pain, new difficulty passing "
                                   "urine and numbness in the saddle area."]})
    assert a.urgent and a.red_flags[0].id == "cauda_equina"
    assert a.red_flags[0].urgency == "emergency" and a.red_flags[0].from_text
    denied = hipspine.assess({"format": "hipspine.case/1", "age": 50,
                              "notes": ["No saddle anaesthesia; denies bladder or bowel "
                                        "dysfunction."]})
    assert not denied.red_flags
    said = hipspine.assess({"format": "hipspine.case/1", "age": 50,
                            "symptoms": {"saddle_anaesthesia": False},
                            "notes": ["Saddle anaesthesia reported by the patient."]})
    assert not said.red_flags  # the clinician's structured answer stands
