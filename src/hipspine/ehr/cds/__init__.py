"""CDS Hooks service `hipspine-consider` (patient-view): discovery, cards, feedback, JWT checks.

    from hipspine.ehr.cds import CdsConfig, create_cds_router
    app.include_router(create_cds_router(CdsConfig(issuers=(...,), app_url="https://...")))
"""

from __future__ import annotations

from hipspine.ehr.cds.config import CdsConfig, TrustedIssuer
from hipspine.ehr.cds.router import SERVICE_ID, create_cds_router

__all__ = ["SERVICE_ID", "CdsConfig", "TrustedIssuer", "create_cds_router"]
