"""Every knowledge file parses and every citation in it resolves to a reference."""

from __future__ import annotations

from hipspine.kb import (
    citations_in,
    knowledge_files,
    knowledge_version,
    load_references,
    read_yaml,
)


def test_version_is_set() -> None:
    assert knowledge_version()


def test_every_citation_resolves() -> None:
    refs = load_references()
    dangling = [
        (path, key)
        for path in knowledge_files()
        if not path.startswith("references/")
        for key in citations_in(read_yaml(path))
        if key not in refs
    ]
    assert dangling == []


def test_references_are_locatable() -> None:
    for ref in load_references().values():
        assert ref.doi or ref.pmid or ref.pmcid or ref.url, ref.id
        assert 1900 < ref.year <= 2026, ref.id


def test_citations_found_in_plain_yaml_and_nested_lists() -> None:
    doc = {"a": [{"citation": "x"}, {"b": {"citations": ["y", "z"]}}], "note": "citation"}
    assert citations_in(doc) == ["x", "y", "z"]
