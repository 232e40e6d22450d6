"""Turn Pydantic validation errors into `InputError`s a clinician can act on.

Every problem names the field path, the value given and what is allowed; a misspelt field
name gets a "did you mean" suggestion, because a typo silently ignored in a medical tool
turns a positive finding into an unknown one.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from typing import Any, TypeVar

import annotated_types
from pydantic import BaseModel, ValidationError

from hipspine.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


def json_object(data: Any, what: str) -> dict[str, Any]:
    """`data` as a JSON object: a dict as it is, JSON text or bytes decoded; `InputError`
    otherwise (not JSON, not UTF-8, or not an object)."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InputError.single("(document)", _excerpt(data), "a JSON document",
                                    f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                    f"column {exc.colno}", what=what) from None
        except UnicodeDecodeError as exc:
            raise InputError.single("(document)", f"byte {exc.start}", "UTF-8 text",
                                    what=what) from None
    if not isinstance(data, dict):
        raise InputError.single("(document)", type(data).__name__, "a JSON object",
                                what=what)
    return data


def parse_model(model: type[M], data: Any, what: str) -> M:
    """Validate `data` (a dict, or a JSON string/bytes) as `model`, raising `InputError`."""
    data = json_object(data, what)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise problems_from_validation_error(model, exc, what) from None


def problems_from_validation_error(model: type[BaseModel], exc: ValidationError,
                                   what: str) -> InputError:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        problems.append(Problem(
            field=format_loc(loc),
            value=None if err["type"] == "missing" else err.get("input"),
            allowed=_allowed(model, loc, err),
            message=err["msg"],
        ))
    return InputError(problems, what=what)


def format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("literal[...]",) or str(part).startswith(("function-", "constrained-")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _allowed(model: type[BaseModel], loc: tuple[Any, ...], err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        names = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return hint + "known fields: " + ", ".join(names)
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", ""))
    if kind == "missing":
        return "a value (this field is required)"
    if kind in ("bool_type", "bool_parsing"):
        return "true, false, or null for not examined / not known"
    bounds = _bounds(model, loc)
    if bounds:
        return bounds
    if kind.startswith(("int_", "float_")):
        return "a number" if kind.startswith("float") else "a whole number"
    if kind == "string_pattern_mismatch":
        return _description(model, loc) or f"text matching {ctx.get('pattern')}"
    if kind in ("list_type", "tuple_type"):
        return "a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "an object"
    if kind == "string_type":
        return "text"
    return str(err["msg"])


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = _inner_model(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """Find the BaseModel inside Optional[...] / list[...] wrappers, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _bounds(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    names = [p for p in loc if not isinstance(p, int)]
    parent = _model_at(model, tuple(names[:-1])) if names else None
    if parent is None or not names:
        return ""
    info = parent.model_fields.get(str(names[-1]))
    if info is None:
        return ""
    lo = hi = None
    for meta in _all_metadata(info.annotation, list(info.metadata)):
        if isinstance(meta, annotated_types.Ge):
            lo = meta.ge
        elif isinstance(meta, annotated_types.Le):
            hi = meta.le
    if lo is None and hi is None:
        return ""
    unit = info.description or ""
    text = f"a number from {lo} to {hi}" if lo is not None and hi is not None else (
        f"a number >= {lo}" if lo is not None else f"a number <= {hi}")
    return f"{text} {unit}".strip() + ", or null for not known"


def _description(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    names = [p for p in loc if not isinstance(p, int)]
    parent = _model_at(model, tuple(names[:-1])) if names else None
    info = parent.model_fields.get(str(names[-1])) if parent and names else None
    if info is None:
        return ""
    for meta in _all_metadata(info.annotation, []):
        if getattr(meta, "description", None):
            return str(meta.description)
    return info.description or ""


def _all_metadata(annotation: Any, found: list[Any]) -> list[Any]:
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found.append(meta)
        found.extend(getattr(meta, "metadata", ()))  # a Field(...) inside Annotated
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            _all_metadata(arg, found)
    return found


def _excerpt(data: str | bytes | bytearray) -> str:
    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    return text[:40]
