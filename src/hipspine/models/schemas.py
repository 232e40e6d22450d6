"""The formats whose JSON Schema `hipspine schema NAME` prints."""

from __future__ import annotations

import importlib

from pydantic import BaseModel

# name -> "module:Class"; a format joins this list when its model exists.
_FORMATS = {
    "case": "hipspine.models.case:Case",
    "assessment": "hipspine.models.assessment:Assessment",
    "plan": "hipspine.models.plan:Plan",
    "landmarks": "hipspine.models.landmarks:Landmarks",
    "spinopelvic": "hipspine.models.landmarks:SpinopelvicResult",
}


def available() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for name, target in _FORMATS.items():
        module_name, cls = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        model = getattr(module, cls, None)
        if model is not None:
            found[name] = model
    return found
