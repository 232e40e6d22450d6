"""Stepped treatment plans for hip, spine and hip-spine syndrome.

    from hipspine.plan import make_plan, load_plan_knowledge
    plan = make_plan(case, assessment, load_plan_knowledge())
    for step in plan.steps:
        print(step.order, step.action, step.citation)

`plan_case(case)` runs the assessment engine first (`hipspine.assess`).
"""

from __future__ import annotations

from typing import Any

from hipspine.models.assessment import Assessment
from hipspine.models.case import Case
from hipspine.models.landmarks import SpinopelvicResult
from hipspine.models.plan import Plan
from hipspine.plan.engine import make_plan
from hipspine.plan.knowledge import PlanKnowledge, load_plan_knowledge


def plan_case(case: Case, kb: PlanKnowledge | None = None,
              spinopelvic: SpinopelvicResult | None = None) -> Plan:
    """Assess the case with the assessment engine, then plan."""
    import hipspine

    assess: Any = getattr(hipspine, "assess", None)
    if assess is None:
        from hipspine.errors import KnowledgeBaseError

        raise KnowledgeBaseError("the assessment engine (hipspine.assess) is not available; "
                                 "pass an assessment with --assessment")
    assessment: Assessment = assess(case)
    return make_plan(case, assessment, kb or load_plan_knowledge(), spinopelvic)


__all__ = ["Plan", "PlanKnowledge", "load_plan_knowledge", "make_plan", "plan_case"]
