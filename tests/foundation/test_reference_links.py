"""Citations resolve to the paper: a journal reference carries a DOI or PMID, and no url is a
PubMed search or a document-sharing copy.

A reference whose identifier could not be confirmed is listed below by id, and its note must
say "identifier not found", so a new reference without one fails until someone looks.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from hipspine.kb import load_references
from hipspine.kb.schema import Reference

# Journal-type references whose DOI and PMID were searched for and not found in stored sources
# (guidelines, a book chapter and papers without a confirmed identifier).
NO_IDENTIFIER = frozenset({
    "ashok2009_hip_injection", "brown2004", "cook2011", "grammatopoulos2023_efort",
    "grimaldi2017_gt", "jamaevidence_pad", "leng1992", "liu2019_hip_or_spine",
    "lopez_hip_or_spine_survey", "nhsggc_nsaid", "nice_cg147_plan", "nice_cg173_plan",
    "nice_ktt13", "nice_ng226", "nice_ng59_plan", "offierski1983", "pateder2007",
    "scot_polypharmacy_nsaid", "scot_srg_sarcoma_bone", "sij_control_block2015",
    "sutlive2008", "who_bmi",
})

# medications.yaml (curated elsewhere): code repositories, standards and indexes, not papers.
# Their notes do not yet carry the "identifier not found" wording, so they are listed apart.
NOT_PAPERS = frozenset({
    "cpic_drug_table", "fhir_r4_allergyintolerance", "fhir_r4_medicationrequest",
    "fhir_r4_medicationstatement", "rxnorm_technical_docs", "synthea_modules", "who_atc",
})

# Document-sharing, aggregator and research-portal hosts: copies or records of a paper,
# not the paper. A host matches itself and its subdomains.
SHARING_HOSTS = (
    "studylib.net", "studylib.es", "cyberleninka.org", "cyberleninka.ru", "researcher.life",
    "m.scirp.org", "chiro.org", "drgawaso.com", "medicalcriteria.com", "scribd.com",
    "docslib.org", "documents.pub", "dokumen.tips", "fdocuments.in", "vdocuments.site",
    "pure.psu.edu", "scholars.duke.edu",
)

# The only locator left for these is the portal or aggregator page the figures were read on;
# each note says so. Finding the paper's DOI or PMID takes the id off this list.
SHARING_URL_LAST_RESORT = frozenset({
    "ashok2009_hip_injection", "cook2011", "leng1992", "liu2019_hip_or_spine",
})

NOT_FOUND = "identifier not found"


def url_problem(url: str | None) -> str | None:
    """Why a url does not point to the paper (None when it may)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    pubmed = host in ("pubmed.ncbi.nlm.nih.gov", "pubmed.gov") or (
        host == "ncbi.nlm.nih.gov" and parts.path.startswith("/pubmed"))
    if pubmed and "term" in parse_qs(parts.query):
        return "a PubMed search, not a record"
    for bad in SHARING_HOSTS:
        if host == bad or host.endswith("." + bad):
            return f"a document-sharing or portal copy ({bad})"
    return None


def _identified(ref: Reference) -> bool:
    return bool(ref.doi or ref.pmid or ref.pmcid)


@pytest.fixture(scope="module")
def refs() -> dict[str, Reference]:
    return load_references()


def test_every_journal_reference_has_a_doi_or_pmid(refs: dict[str, Reference]) -> None:
    missing = {r.id for r in refs.values() if r.journal and not _identified(r)}
    unexplained = missing - NO_IDENTIFIER - NOT_PAPERS
    assert not unexplained, (
        f"journal references without a doi/pmid: {sorted(unexplained)}; find the identifier, or "
        f"add the id to NO_IDENTIFIER with a note saying '{NOT_FOUND} in stored sources'")


def test_the_known_lists_are_current(refs: dict[str, Reference]) -> None:
    listed = NO_IDENTIFIER | NOT_PAPERS | SHARING_URL_LAST_RESORT
    assert listed <= refs.keys(), f"listed but not a reference: {sorted(listed - refs.keys())}"
    resolved = {i for i in NO_IDENTIFIER | NOT_PAPERS if _identified(refs[i])}
    assert not resolved, f"now carry a doi/pmid, take them off the list: {sorted(resolved)}"
    assert SHARING_URL_LAST_RESORT <= NO_IDENTIFIER


def test_references_without_identifier_say_so(refs: dict[str, Reference]) -> None:
    silent = {i for i in NO_IDENTIFIER if NOT_FOUND not in (refs[i].note or "")}
    assert not silent, f"note must say '{NOT_FOUND}': {sorted(silent)}"


def test_no_url_is_a_search_or_a_shared_copy(refs: dict[str, Reference]) -> None:
    bad = {}
    for ref in refs.values():
        problem = url_problem(ref.url)
        if problem and ref.id not in SHARING_URL_LAST_RESORT:
            bad[ref.id] = f"{ref.url}: {problem}"
    assert not bad, bad


def test_last_resort_urls_are_still_needed(refs: dict[str, Reference]) -> None:
    stale = {i for i in SHARING_URL_LAST_RESORT if url_problem(refs[i].url) is None}
    assert not stale, f"url no longer a portal or shared copy; drop from the list: {sorted(stale)}"


@pytest.mark.parametrize("url", [
    "https://pubmed.ncbi.nlm.nih.gov/?term=Hip-spine+syndrome",
    "https://www.ncbi.nlm.nih.gov/pubmed/?term=offierski",
    "https://studylib.net/doc/10804792/x",
    "https://deploy.studylib.es/doc/9079422/laslett2005",
    "https://discovery.researcher.life/article/x/1",
    "https://www.chiro.org/Subluxation/x.shtml",
    "https://m.scirp.org/papers/57728",
    "https://pure.psu.edu/en/publications/x",
])
def test_url_problem_catches(url: str) -> None:
    assert url_problem(url) is not None


@pytest.mark.parametrize("url", [
    None,
    "https://pubmed.ncbi.nlm.nih.gov/26307119/",
    "https://www.scirp.org/journal/PaperInformation?PaperID=57728",
    "https://bjsm.bmj.com/content/51/6/519",
    "https://www.nice.org.uk/guidance/ng226",
])
def test_url_problem_passes(url: str | None) -> None:
    assert url_problem(url) is None
