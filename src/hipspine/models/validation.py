"""Turn Pydantic validation errors into `InputError`s a clinician can act on.

Every problem names the field path, the value given and what is allowed; a misspelt field
name gets a "did you mean" suggestion, because a typo silently ignored in a medical tool
turns a positive finding into an unknown one.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import types
import typing
from typing import Any, TypeVar

import annotated_types
from pydantic import BaseModel, ValidationError

from hipspine.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


# The one JSON policy (API bodies, CDS Hooks calls, web form payloads, CLI files): JSON as
# RFC 8259 defines it and nothing a later step cannot store or echo back. Python's decoder
# alone accepts NaN and Infinity, turns 1e999 into inf, keeps the last of duplicate keys
# and lone surrogates, and recurses into nesting until RecursionError.
MAX_JSON_DEPTH = 64  # design choice: a FHIR Bundle, the deepest document read, nests ~12 deep
MAX_JSON_INT = 2**63 - 1  # what SQLite and PostgreSQL BIGINT can store
MAX_REPORTED_PROBLEMS = 20
_UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")  # NUL (PostgreSQL refuses it), surrogates


class JsonSyntaxError(InputError):
    """The text is not JSON at all (as opposed to JSON the policy refuses): a reader of
    NDJSON tries it line by line instead."""


class _Refused:
    """A number token the policy refuses, kept where it stood so its path can be named."""

    __slots__ = ("allowed", "text")

    def __init__(self, text: str, allowed: str) -> None:
        self.text, self.allowed = text, allowed


class _DuplicateKeys(dict[str, Any]):
    """An object that named some key twice (`duplicates`); the decoder keeps going so that
    every problem is reported at once."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    repeated = [k for k, _ in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    flagged = _DuplicateKeys(obj)
    flagged.duplicates = list(dict.fromkeys(repeated))
    return flagged


def _constant(name: str) -> _Refused:
    return _Refused(name, "a finite number (NaN and Infinity are not JSON numbers)")


def _float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(
        text, "a finite number (at most about 1.8e308)")


def _int(text: str) -> int | _Refused:
    if len(text.lstrip("-")) > 19 or abs(int(text)) > MAX_JSON_INT:
        return _Refused(text if len(text) <= 40 else text[:37] + "...",
                        f"a whole number from -{MAX_JSON_INT} to {MAX_JSON_INT}")
    return int(text)


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float, parse_int=_int,
                            parse_constant=_constant)


def loads_strict(data: str | bytes | bytearray, what: str) -> Any:
    """Decode JSON text under the one policy, or raise `InputError` naming every problem:
    not UTF-8, not JSON, NaN/Infinity, a number too large to store, a duplicate key, a lone
    surrogate (text no database or JSON encoder can write), nesting deeper than
    `MAX_JSON_DEPTH`. A leading byte-order mark is ignored."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError.single("(document)", f"byte {exc.start}", "UTF-8 text",
                                    what=what) from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError([Problem("(document)", _excerpt(text), "a JSON document",
                                       f"not valid JSON: {exc.msg} at line {exc.lineno} "
                                       f"column {exc.colno}")], what=what) from None
    except RecursionError:
        raise InputError.single("(document)", "(nested too deeply to read)",
                                f"at most {MAX_JSON_DEPTH} levels of nesting",
                                what=what) from None
    check_json_value(value, what)
    return value


def check_json_value(value: Any, what: str) -> None:
    """Raise `InputError` for anything in a decoded (or built) value that the JSON policy
    refuses. Iterative, so hostile nesting cannot exhaust the stack."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack and len(problems) < MAX_REPORTED_PROBLEMS:
        item, path, depth = stack.pop()
        where = path or "(document)"
        if isinstance(item, _Refused):
            problems.append(Problem(where, item.text, item.allowed))
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(Problem(where, repr(item), "a finite number"))
        elif isinstance(item, str):
            if _UNSTORABLE.search(item):
                problems.append(_unstorable_problem(where, item))
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                problems.append(Problem(where, f"(nested more than {MAX_JSON_DEPTH} deep)",
                                        f"at most {MAX_JSON_DEPTH} levels of nesting"))
                continue
            if isinstance(item, _DuplicateKeys):
                problems += [Problem(f"{path}.{k}" if path else k, "(given more than once)",
                                     "each key once in an object") for k in item.duplicates]
            if isinstance(item, dict):
                for key, child in item.items():
                    key_text = str(key)
                    child_path = f"{path}.{key_text}" if path else key_text
                    if _UNSTORABLE.search(key_text):
                        problems.append(_unstorable_problem(f"{where} (a key)", key_text))
                        continue
                    stack.append((child, child_path, depth + 1))
            else:
                stack += [(child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item)]
    if problems:
        problems.sort(key=lambda p: p.field)
        raise InputError(problems[:MAX_REPORTED_PROBLEMS], what=what)


def _unstorable_problem(field: str, text: str) -> Problem:
    at = _UNSTORABLE.search(text)
    start = at.start() if at else 0
    shown = text[max(0, start - 10):start + 10].encode("utf-8", "backslashreplace").decode()
    return Problem(field, shown.replace("\x00", "\\u0000"),
                   "text without NUL (U+0000) or lone surrogate code points (U+D800 to "
                   "U+DFFF), which cannot be stored")


def json_object(data: Any, what: str) -> dict[str, Any]:
    """`data` as a JSON object: JSON text or bytes decoded under `loads_strict`, a dict
    checked by the same policy; `InputError` otherwise."""
    if isinstance(data, (str, bytes, bytearray)):
        data = loads_strict(data, what)
    else:
        check_json_value(data, what)
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
    return text[:40].encode("utf-8", "backslashreplace").decode()
