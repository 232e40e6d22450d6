"""Reading radiology reports and clinic notes into the case format.

    from hipspine.nlp import read_report, enrich_case
    read_report("Moderate central stenosis at L4-5.").imaging.lumbar_stenosis
    enrich_case(case).case   # imaging/exam fields filled from text where absent

Rules (ConText modifiers, targets, the Kellgren-Lawrence mapping) are data in
`knowledge/nlp/`; see docs/nlp.md for why this is a small rule engine and not medspaCy.
"""

from __future__ import annotations

from hipspine.nlp.enrich import EnrichedCase, enrich_case
from hipspine.nlp.knowledge import NlpKnowledge, load_nlp_knowledge
from hipspine.nlp.reader import EvidenceItem, ImagingFindings, ReportReading, read_report

__all__ = [
    "EnrichedCase",
    "EvidenceItem",
    "ImagingFindings",
    "NlpKnowledge",
    "ReportReading",
    "enrich_case",
    "load_nlp_knowledge",
    "read_report",
]
