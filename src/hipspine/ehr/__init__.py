"""EHR adapters: FHIR R4 in and out, value sets, and the CDS Hooks service.

Everything here is an adapter around the pure core: it turns FHIR resources into a
`hipspine.case/1`, and assessments, plans and PROM scores back into FHIR resources.
Heavy libraries (fhir.resources, FastAPI, httpx, PyJWT) are imported only where used.
"""

from __future__ import annotations

from hipspine.ehr.valuesets import CodeIndex, ValueSet, load_code_index, load_valuesets

__all__ = ["CodeIndex", "ValueSet", "load_code_index", "load_valuesets"]
