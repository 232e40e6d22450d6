"""Every knowledge file parses and every citation in it resolves to a reference."""

from __future__ import annotations

from typing import Any

from hipspine.kb import knowledge_files, knowledge_version, load_references, read_yaml


def _citations(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "citation" and isinstance(value, str):
                found.append(value)
            elif key == "citations" and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
            else:
                found.extend(_citations(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_citations(value))
    return found


def test_version_is_set() -> None:
    assert knowledge_version()


def test_every_citation_resolves() -> None:
    refs = load_references()
    dangling = [
        (path, key)
        for path in knowledge_files()
        if not path.startswith("references/")
        for key in _citations(read_yaml(path))
        if key not in refs
    ]
    assert dangling == []


def test_references_are_locatable() -> None:
    for ref in load_references().values():
        assert ref.doi or ref.pmid or ref.pmcid or ref.url, ref.id
        assert 1900 < ref.year <= 2026, ref.id
