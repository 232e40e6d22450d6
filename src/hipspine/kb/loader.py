"""Reading knowledge files from the package, strictly, with citation checks."""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hipspine.errors import KnowledgeBaseError
from hipspine.kb.schema import Reference

M = TypeVar("M", bound=BaseModel)

KNOWLEDGE_ROOT: Traversable = resources.files("hipspine") / "knowledge"
_CITATION_FIELDS = ("citation", "citations")


def _resolve(relpath: str) -> Traversable:
    node = KNOWLEDGE_ROOT
    for part in relpath.split("/"):
        node = node / part
    return node


def read_yaml(relpath: str) -> Any:
    """Parse one knowledge file (path relative to `hipspine/knowledge/`)."""
    node = _resolve(relpath)
    if not node.is_file():
        raise KnowledgeBaseError(f"knowledge file missing: {relpath}")
    try:
        return yaml.safe_load(node.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{relpath}: not valid YAML: {exc}") from None


def knowledge_files() -> list[str]:
    """Every YAML file in the knowledge base, as paths relative to its root."""
    found: list[str] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith((".yaml", ".yml")):
                found.append(prefix + child.name)

    walk(KNOWLEDGE_ROOT, "")
    return found


@functools.cache
def knowledge_version() -> str:
    """The knowledge base's own version (`knowledge/manifest.yaml`), stamped on every output."""
    manifest = read_yaml("manifest.yaml")
    return str(manifest["version"])


@functools.cache
def load_references() -> dict[str, Reference]:
    """All references from `knowledge/references/*.yaml`, by citekey (duplicates rejected)."""
    refs: dict[str, Reference] = {}
    for relpath in knowledge_files():
        if not relpath.startswith("references/"):
            continue
        rows = read_yaml(relpath) or []
        if not isinstance(rows, list):
            raise KnowledgeBaseError(f"{relpath}: expected a list of references")
        for row in rows:
            try:
                ref = Reference.model_validate(row)
            except ValidationError as exc:
                raise KnowledgeBaseError(f"{relpath}: {exc}") from None
            if ref.id in refs:
                raise KnowledgeBaseError(f"{relpath}: duplicate reference id {ref.id!r}")
            refs[ref.id] = ref
    return refs


def load_section(relpath: str, model: type[M]) -> M:
    """Load one knowledge file as `model`, rejecting unknown fields and dangling citations.

    Not cached here: callers own their caching (the core receives the loaded object as a
    parameter, so tests can hand it a three-row knowledge base instead).
    """
    data = read_yaml(relpath)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeBaseError(f"{relpath}: {exc}") from None
    check_citations(parsed, relpath)
    return parsed


def check_citations(obj: Any, where: str) -> None:
    """Raise if any `citation`/`citations` value in `obj` names no known reference."""
    refs = load_references()
    for key in citations_in(obj):
        if key not in refs:
            raise KnowledgeBaseError(f"{where}: citation {key!r} is not in knowledge/references")


def citations_in(obj: Any) -> list[str]:
    """Every citekey under a `citation`/`citations` field, in a model or in plain parsed YAML."""
    found: list[str] = []

    def add(name: str, value: Any) -> None:
        if name in _CITATION_FIELDS:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, (list, tuple)):
                found.extend(v for v in value if isinstance(v, str))
        else:
            walk(value)

    def walk(node: Any) -> None:
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                add(name, getattr(node, name))
        elif isinstance(node, dict):
            for name, value in node.items():
                add(str(name), value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(obj)
    return found
