"""The assessment engine: where does the pain come from (hip, spine, both, a mimic)?

Pure core: `assess_case(case, kb)` does no I/O; `load_assessment_knowledge()` loads the
cited data it needs. The adapter-facing wrapper `assess` (in `hipspine.assess.api`) also
runs the report reader and the instruments when they are installed.

    from hipspine.assess import assess_case, load_assessment_knowledge
    result = assess_case(case, load_assessment_knowledge())
"""

from __future__ import annotations

import sys
import types
from typing import Any

from hipspine.assess.engine import assess_case
from hipspine.assess.knowledge import AssessmentKnowledge, load_assessment_knowledge


class _CallablePackage(types.ModuleType):
    """Importing this package rebinds `hipspine.assess` from the public function to the
    package; making the package callable keeps `hipspine.assess(case)` working either way."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from hipspine.assess.api import assess

        return assess(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["AssessmentKnowledge", "assess_case", "load_assessment_knowledge"]
