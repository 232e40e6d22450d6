"""`POST /api/v1/assess`, `/plan`, `/spinopelvic`: the stateless clinical calculations.

The request body is validated by the same strict models as the CLI, so a misspelt finding
answers 422 naming the field, the value and what is allowed (see `hipspine.web.errors`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from hipspine.models import Assessment, Case
from hipspine.models.assessment import EvidenceLevel
from hipspine.models.landmarks import Landmarks, SpinopelvicResult
from hipspine.models.plan import Plan
from hipspine.web import services
from hipspine.web.deps import current_actor
from hipspine.web.errors import rich_body_model
from hipspine.web.store import Actor

router = APIRouter(prefix="/api/v1", tags=["clinical"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in and no API token"},
    422: {"description": "Invalid input: `problems` name field, value and what is allowed"},
}


@router.post("/assess", response_model=Assessment, responses=ERRORS,
             summary="Assess where the pain comes from (hipspine.assessment/1)")
def assess(case: Case = Body(...), actor: Actor = Depends(current_actor),
           evidence: EvidenceLevel | None = Query(
               None, description="Which likelihood ratios count, by how they were verified: "
               "verified (default: primary and secondary), primary, or all")) -> Any:
    return services.assess(case, evidence)


@router.post("/plan", response_model=Plan, responses=ERRORS,
             summary="Stepped treatment plan (hipspine.plan/1)")
def plan(case: Case = Body(...), actor: Actor = Depends(current_actor)) -> Any:
    return services.plan(case)


@router.post("/spinopelvic", response_model=SpinopelvicResult, responses=ERRORS,
             summary="Spinopelvic parameters and hip-spine class from landmarks")
def spinopelvic(landmarks: Landmarks = Body(...),
                actor: Actor = Depends(current_actor)) -> Any:
    return services.spinopelvic(landmarks)


rich_body_model("/api/v1/assess", Case, "case")
rich_body_model("/api/v1/plan", Case, "case")
rich_body_model("/api/v1/spinopelvic", Landmarks, "landmarks")
