"""Load and validate the knowledge base (the data files under `hipspine/knowledge/`).

The knowledge base is data, never code: every rule, threshold and likelihood ratio sits in
a YAML file with its citation. Each area of hipspine describes the shape of its files with
a strict Pydantic model (unknown fields rejected) and loads them through `load_section`,
which also checks that every citation resolves to an entry in `knowledge/references/`.

    from hipspine.kb import load_section
    table = load_section("assessment/findings.yaml", FindingsFile)
"""

from __future__ import annotations

from hipspine.kb.loader import (
    KNOWLEDGE_ROOT,
    citations_in,
    knowledge_files,
    knowledge_version,
    load_references,
    load_section,
    read_yaml,
)
from hipspine.kb.schema import Evidence, KBModel, Reference, Verification

__all__ = [
    "KNOWLEDGE_ROOT",
    "Evidence",
    "KBModel",
    "Reference",
    "Verification",
    "citations_in",
    "knowledge_files",
    "knowledge_version",
    "load_references",
    "load_section",
    "read_yaml",
]
