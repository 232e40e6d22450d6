"""The result page's words-not-codes filters (hipspine.web.labels), fast, without a browser."""

from __future__ import annotations

from typing import Any

from hipspine.web import labels
from hipspine.web.templating import templates


def test_filters_are_registered() -> None:
    for name in ("cite", "field_label", "humanize", "value_words", "instrument_name",
                 "not_counted_reason", "next_test_reason"):
        assert name in templates.env.filters
    assert "split_next_tests" in templates.env.globals


def test_citekey_becomes_author_year_journal_and_link() -> None:
    html = str(labels.cite("nice_ng226"))
    assert "nice_ng226" not in html and "[" not in html
    assert "2022" in html and "<a href=" in html
    bracketed = str(labels.cite("[altman1991]"))
    assert "Altman 1991" in bracketed
    assert 'href="https://doi.org/10.1002/art.1780340502"' in bracketed


def test_printed_label_gets_its_identifier_linked_and_escaped() -> None:
    html = str(labels.cite("Suri 2010, JAMA, doi:10.1001/jama.2010.1833"))
    assert html.startswith('<cite class="ref">Suri 2010, JAMA, <a href="https://doi.org/10.1001')
    assert "<script>" not in str(labels.cite("<script>x</script>"))
    pmid = str(labels.cite("Kent 1992, AJR Am J Roentgenol, PMID 1533084"))
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/1533084/"' in pmid


def test_field_paths_become_labels() -> None:
    assert labels.field_label("tests.esr_mm_h") == "ESR"
    assert labels.field_label("symptoms.relief_sitting") == "Relief sitting"
    text = str(labels.humanize("Still needed: tests.esr_mm_h, exam.hip_flexion_deg."))
    assert text == "Still needed: ESR, Hip flexion."
    cited = str(labels.humanize("Anticoagulated: weigh the risk. [narouze2018]"))
    assert "[narouze2018]" not in cited and "Narouze" in cited
    assert "&lt;b&gt;" in str(labels.humanize("<b>"))


def test_values_and_instruments_in_words() -> None:
    assert labels.value_words(True) == "yes"
    assert labels.value_words(False) == "no"
    assert labels.value_words(None) == "not known"
    assert labels.value_words("below_knee, buttock") == "below knee, buttock"
    assert labels.value_words(5.0) == "5"
    assert labels.instrument_name("acr1991_hip_oa_clinical") == (
        "ACR 1991 hip osteoarthritis criteria, clinical tree")
    assert labels.instrument_name("made_up_thing") == "made up thing"


def test_not_counted_reason_in_words() -> None:
    policy = {"note": "not counted: the figure is unverified, and the evidence policy "
                      "'verified' counts only primary and secondary and design_choice figures",
              "counted": False, "verified": False}
    assert labels.not_counted_reason(policy).startswith("the figure is unverified")
    group = {"note": "counted in group 'g' (Relief by sitting): only the strongest applies",
             "counted": False}
    assert "stronger finding" in labels.not_counted_reason(group)


def _doc(chances: list[float | None]) -> dict[str, Any]:
    import hipspine

    a = hipspine.assess({"format": "hipspine.case/1", "age": 60, "sex": "female"})
    doc = a.model_dump(mode="json")
    doc["next_tests"] = [{"test": f"Test {i}", "why": f"Chance the verdict changes "
                          f"{(c or 0) * 100:.0f}%; expected information 0.10 bits. x.",
                          "citation": "", "chance_verdict_changes": c}
                         for i, c in enumerate(chances)]
    return doc


def _render(doc: dict[str, Any]) -> str:
    return templates.env.get_template("_assessment.html").render(
        assessment=doc, plan=None, verdict_text={})


def test_zero_chance_tests_leave_the_list_and_the_page_says_so() -> None:
    html = _render(_doc([0.0, 0.0, 0.0]))
    assert 'id="next-tests"' not in html
    assert "No single test would change the verdict now." in html
    assert "Chance the verdict changes 0%" not in html
    mixed = _render(_doc([0.2, 0.0, None]))
    listed = mixed.split('id="next-tests"')[1].split("</ol>")[0]
    assert "Test 0" in listed and "Test 2" in listed and "Test 1" not in listed
    assert "20% chance it changes the verdict" in listed


def test_result_page_through_the_app_shows_words(clinician: Any,
                                                 example_cases: dict[str, Any]) -> None:
    import re

    from tests.web.conftest import csrf_of, intake_form

    token = csrf_of(clinician.get("/intake").text)
    r = clinician.post("/intake", data=intake_form(example_cases["hip-dominant"], token))
    assert r.status_code == 200
    assert not re.search(r"\[[a-z][a-z0-9_]*\]", r.text)
    assert "tests.esr_mm_h" not in r.text and "acr1991_hip_oa_clinical<" not in r.text
    assert 'class="contribution not-counted"' in r.text and "not counted: " in r.text


def test_timepoints_and_prom_names_in_words() -> None:
    from hipspine.web.labels import instrument_name, timepoint_words

    assert [timepoint_words(t) for t in ("baseline", "6w", "3m", "12m", None)] == [
        "baseline", "6 weeks", "3 months", "12 months", "not at a study timepoint"]
    assert instrument_name("odi") == "Oswestry Disability Index"
