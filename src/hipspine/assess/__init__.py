"""The assessment engine: where does the pain come from (hip, spine, both, a mimic)?

Pure core: `assess_case(case, kb)` does no I/O; `load_assessment_knowledge()` loads the
cited data it needs. The adapter-facing wrapper `assess` (in `hipspine.assess.api`) also
runs the report reader and the instruments when they are installed.

    from hipspine.assess import assess_case, load_assessment_knowledge
    result = assess_case(case, load_assessment_knowledge())
"""

from __future__ import annotations

from hipspine.assess.engine import assess_case
from hipspine.assess.knowledge import AssessmentKnowledge, load_assessment_knowledge

__all__ = ["AssessmentKnowledge", "assess_case", "load_assessment_knowledge"]
