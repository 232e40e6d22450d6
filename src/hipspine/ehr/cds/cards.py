"""From a patient's FHIR data to CDS Hooks cards: import, assess, then apply the card rules
of `knowledge/ehr/cards.yaml`. No I/O here: resources and knowledge come in as parameters.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field

from hipspine.ehr.fhir_in import CodedFinding, ImportKnowledge, ImportResult, import_resources
from hipspine.kb import KBModel, Verification, load_references, load_section
from hipspine.models.assessment import Assessment
from hipspine.models.case import Case
from hipspine.plan.facts import holds
from hipspine.plan.knowledge import When

SUMMARY_LIMIT = 140
SOURCE_LABEL = "hipspine hip-spine decision support"


class CardRule(KBModel):
    id: str
    group: str
    indicator: Literal["info", "warning", "critical"]
    summary: str
    care: list[str]
    evidence_categories: list[str]
    evidence_verdicts: list[str]
    unless: list[str]
    citation: str
    verified: Verification
    note: str | None = None


class ReasonCode(KBModel):
    code: str
    display: str


class OverrideReasons(KBModel):
    system: str
    citation: str
    codes: list[ReasonCode]

    def codings(self) -> list[dict[str, str]]:
        return [{"system": self.system, "code": c.code, "display": c.display}
                for c in self.codes]


class MedicationWarning(KBModel):
    """A warning card shown beside the hip-spine card when a medication safety fact holds."""

    id: str
    when: When
    summary: str
    detail: str
    citations: list[str]
    verified: Verification
    note: str | None = None


class CardRulesFile(KBModel):
    rules: list[CardRule]
    override_reasons: OverrideReasons
    medication_warnings: list[MedicationWarning] = Field(default_factory=list)


def load_card_rules() -> CardRulesFile:
    loaded = load_section("ehr/cards.yaml", CardRulesFile)
    summaries = [(r.id, r.summary) for r in loaded.rules]
    summaries += [(w.id, w.summary) for w in loaded.medication_warnings]
    for rule_id, summary in summaries:
        if len(summary) >= SUMMARY_LIMIT:
            from hipspine.errors import KnowledgeBaseError

            raise KnowledgeBaseError(f"ehr/cards.yaml: {rule_id} summary is not under 140 chars")
    return loaded


@dataclass(frozen=True)
class CdsKnowledge:
    imports: ImportKnowledge
    cards: CardRulesFile

    @property
    def rules(self) -> list[CardRule]:
        return self.cards.rules


def fired_rules(rules: list[CardRule], findings: list[CodedFinding],
                assessment: Assessment | None) -> list[CardRule]:
    """The rules that fire, at most one per group, in file order."""
    coded = {f.category for f in findings if f.active}
    verdict = assessment.verdict if assessment else None
    out: list[CardRule] = []
    groups: set[str] = set()
    for rule in rules:
        if rule.group in groups:
            continue
        under_care = bool(coded & set(rule.care))
        evidence = bool(coded & set(rule.evidence_categories)) or verdict in rule.evidence_verdicts
        excluded = bool(coded & set(rule.unless))
        if under_care and evidence and not excluded:
            out.append(rule)
            groups.add(rule.group)
    return out


def prefill_link(case: Case, app_url: str) -> str:
    """`/intake?prefill=...` carrying the clinical fields only (no id, no free text)."""
    data = json.loads(case.model_dump_json(exclude_none=True, exclude={"id", "notes"}))
    data.get("imaging", {}).pop("reports", None)
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return f"{app_url}/intake?prefill={quote(token)}"


def _short(text: str) -> str:
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2] + "…"


def _detail(assessment: Assessment, findings: list[CodedFinding], rule_note: str | None) -> str:
    lines = []
    if rule_note:
        lines.append(rule_note)
    if findings:
        lines.append("**Coded evidence**")
        lines += [f"- {f.display} ({f.category.replace('_', ' ')}"
                  f"{', ' + f.laterality if f.laterality else ''}"
                  f"{', ' + f.date if f.date else ''}{'' if f.active else ', inactive'}"
                  f"{', code mapping unverified' if f.verified == 'unverified' else ''})"
                  for f in findings[:12]]
    lines.append(f"**Assessment** (hipspine {assessment.engine_version}, knowledge "
                 f"{assessment.knowledge_version}): verdict *{assessment.verdict}*"
                 + (f", *{assessment.diagnosis}*" if assessment.diagnosis else "")
                 + (f" ({assessment.certainty.level.replace('_', ' ')})"
                    if assessment.certainty else ""))
    for named in assessment.diagnoses:  # the decisive evidence first
        if named.basis:
            lines.append(f"**Decided by:** {'; '.join(named.basis[:2])}")
    lines += [f"- {s.label}: {s.probability:.0%} (pre-test {s.pretest:.0%})"
              for s in assessment.sources]
    if assessment.next_tests:
        lines.append(f"**Next test:** {assessment.next_tests[0].test}: "
                     f"{assessment.next_tests[0].why}")
    lines.append(assessment.explanation)
    return "\n\n".join(lines)


def make_cards(resources: list[dict[str, Any]], patient_id: str | None, knowledge: CdsKnowledge,
               *, app_url: str = "", source_url: str | None = None,
               assess: Any = None, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Cards for one patient-view call; an empty list when there is nothing to say."""
    if assess is None:
        import hipspine

        assess = hipspine.assess  # type: ignore[attr-defined,unused-ignore]
    imported = import_resources(resources, patient_id=patient_id, as_of=as_of,
                                knowledge=knowledge.imports)
    relevant = [f for f in imported.findings if f.category != "comorbidity"]
    if not relevant:
        return []  # nothing hip- or spine-related on record: stay silent
    assessment: Assessment = assess(imported.case)
    source: dict[str, Any] = {"label": SOURCE_LABEL}
    if source_url:
        source["url"] = source_url
    links = [{"label": "Open the hip-spine assessment", "url": prefill_link(imported.case,
                                                                             app_url),
              "type": "absolute"}]
    cards: list[dict[str, Any]] = []
    for flag in assessment.red_flags:
        cards.append({"uuid": str(uuid.uuid4()), "indicator": "critical",
                      "summary": _short(f"Red flag: {flag.finding} - {flag.action}"),
                      "detail": f"{flag.finding}: {flag.action} ({_cite(flag.citation)})",
                      "source": source, "links": links})
    for rule in fired_rules(knowledge.rules, imported.findings, assessment):
        detail = _detail(assessment, relevant, rule.note)
        cards.append({"uuid": str(uuid.uuid4()), "indicator": rule.indicator,
                      "summary": rule.summary,
                      "detail": f"{detail}\n\n**Evidence:** {_cite(rule.citation)}",
                      "source": source, "links": links,
                      "overrideReasons": knowledge.cards.override_reasons.codings()})
    cards += medication_cards(imported, knowledge, source, links)
    return cards


def medication_cards(imported: ImportResult, knowledge: CdsKnowledge, source: dict[str, Any],
                     links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One warning card per medication warning whose facts hold on the imported case, with
    the records that set them (`knowledge/ehr/cards.yaml` medication_warnings)."""
    facts = _case_facts(imported.case)
    fact_of = {c.label: c.fact for c in knowledge.imports.medications.knowledge.classes}
    out = []
    for warning in knowledge.cards.medication_warnings:
        if not holds(warning.when, facts):
            continue
        wanted = {c.fact for c in [*warning.when.all, *warning.when.any]}
        records = [m for m in imported.report.medications if m["counted"]
                   and wanted & {fact_of.get(x, x) for x in m["classes"]}]
        lines = [warning.detail]
        if records:
            lines.append("**On record**")
            lines += [f"- {m['how']} ({m['why']})" for m in records[:8]]
        lines.append(f"**Evidence:** {'; '.join(_cite(c) for c in warning.citations)}"
                     + (" (not verified against its source)"
                        if warning.verified == "unverified" else ""))
        out.append({"uuid": str(uuid.uuid4()), "indicator": "warning",
                    "summary": warning.summary, "detail": "\n\n".join(lines),
                    "source": source, "links": links,
                    "overrideReasons": knowledge.cards.override_reasons.codings()})
    return out


def _case_facts(case: Case) -> dict[str, Any]:
    """The case's fields as `section.field` facts, as the plan's conditions name them."""
    data = case.model_dump(mode="json", exclude={"proms", "notes"})
    facts: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            facts.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            facts[key] = value
    return facts


def _cite(citekey: str) -> str:
    ref = load_references().get(citekey)
    return ref.short() if ref else citekey
