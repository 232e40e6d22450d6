"""Structural validation against FHIR R4 models (fhir.resources' R4B package).

fhir.resources' root package is R5, which rejects real R4 data (Synthea bundles fail with
"extra fields not permitted"); its R4B package accepts R4 resources for every element
hipspine reads or writes. Used at the edges only: checking input for the import report,
and checking every resource hipspine exports. Not on the CDS Hooks hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def r4_problem(resource: Mapping[str, Any]) -> str | None:
    """None when the resource validates against the R4(B) model, else a short reason."""
    from fhir.resources.R4B import get_fhir_model_class

    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return "no resourceType"
    try:
        model = get_fhir_model_class(rtype)
    except KeyError:
        return f"unknown resourceType {rtype!r}"
    body = {k: v for k, v in resource.items() if not k.startswith("_fullUrl")}
    try:
        model.parse_obj(body)
    except Exception as exc:  # pydantic v1 ValidationError, or a model-internal error
        first = str(exc).splitlines()
        return " ".join(first[:3])[:300]
    return None


def require_r4(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Return the resource if it validates; raise `ValueError` naming the problem otherwise."""
    problem = r4_problem(resource)
    if problem is not None:
        raise ValueError(f"{resource.get('resourceType')} does not validate as FHIR R4: {problem}")
    return dict(resource)
