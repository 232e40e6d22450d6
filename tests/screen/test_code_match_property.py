"""The screening SQL join and the Python matcher give the same answer for any coding.

The SQL side is the real one: a facts table whose `code_norm` DuckDB computes with the
expression the extraction uses, joined to `screen_codes` built from `code_rows` as
`hipspine.screen.engine` builds it. The Python side is `CodeIndex.match`, mapped to signals
through each signal's value-set categories.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import simple_icd_10_cm
from hypothesis import given, settings
from hypothesis import strategies as st

from hipspine.ehr.valuesets import load_code_index, load_code_systems
from hipspine.screen.rules import code_rows, load_screen_rules

duckdb = pytest.importorskip("duckdb")

RULES = load_screen_rules()
INDEX = load_code_index()
SYSTEMS = load_code_systems()
SPELLINGS = {s.uri: [s.uri, *s.aliases] for s in SYSTEMS}
VALUESET_SIGNALS = {s.id for s in RULES.signals if s.valueset_categories}
LISTED = sorted({(c.system, c.code) for vs in INDEX.valuesets.values() for c in vs.codes})
ALL_ICD = simple_icd_10_cm.get_all_codes(with_dots=True)

# The expression facts_raw uses for code_norm (hipspine.screen.sql.extract_codings_sql).
_CODE_NORM = "upper(replace(code, '.', ''))"
_JOIN = ("SELECT f.n, c.signal FROM facts f JOIN screen_codes c "
         "ON f.system = c.system AND f.code_norm = c.code")


@functools.cache
def _connection() -> Any:
    con = duckdb.connect()
    con.execute("CREATE TABLE screen_codes (system VARCHAR, code VARCHAR, signal VARCHAR, "
                "display VARCHAR, min_value DOUBLE)")
    con.executemany("INSERT INTO screen_codes VALUES (?, ?, ?, ?, ?)",
                    [(r.system, r.code, r.signal, r.display, r.min_value)
                     for r in code_rows(RULES) if r.signal in VALUESET_SIGNALS])
    return con


def _sql_signals(codings: list[tuple[str, str]]) -> list[set[str]]:
    con = _connection()
    con.execute("CREATE OR REPLACE TEMP TABLE facts_in (n INTEGER, system VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO facts_in VALUES (?, ?, ?)",
                    [(n, s, c) for n, (s, c) in enumerate(codings)])
    con.execute(f"CREATE OR REPLACE TEMP TABLE facts AS SELECT n, system, code, "
                f"{_CODE_NORM} AS code_norm FROM facts_in")
    out: list[set[str]] = [set() for _ in codings]
    for n, signal in con.execute(_JOIN).fetchall():
        out[n].add(signal)
    return out


def _python_signals(system: str, code: str) -> set[str]:
    categories = {vs.category for vs in INDEX.match(system, code)}
    return {s.id for s in RULES.signals
            if s.valueset_categories and categories & set(s.valueset_categories)}


def _spelled(code: str) -> st.SearchStrategy[str]:
    return st.sampled_from([code, code.replace(".", ""), code.lower(),
                            code.replace(".", "").lower()])


@st.composite
def codings(draw: st.DrawFn) -> tuple[str, str]:
    """A coding from the expanded table, a near-miss ICD-10-CM code, or a system mix-up."""
    kind = draw(st.sampled_from(["listed", "near_icd", "wrong_system"]))
    if kind == "listed":
        system, code = draw(st.sampled_from(LISTED))
    elif kind == "near_icd":
        system, code = "http://hl7.org/fhir/sid/icd-10-cm", draw(st.sampled_from(ALL_ICD))
    else:
        _, code = draw(st.sampled_from(LISTED))
        system = draw(st.sampled_from(sorted(SPELLINGS)))
    return draw(st.sampled_from(SPELLINGS.get(system, [system]))), draw(_spelled(code))


@settings(max_examples=100, deadline=None)
@given(st.lists(codings(), min_size=1, max_size=30))
def test_sql_join_and_python_matcher_agree(batch: list[tuple[str, str]]) -> None:
    assert _sql_signals(batch) == [_python_signals(s, c) for s, c in batch]


def test_the_comparison_sees_matches_and_misses() -> None:
    """Guards the property: both sides find a listed descendant and miss a sibling."""
    icd = "urn:oid:2.16.840.1.113883.6.90"
    sql = _sql_signals([(icd, "m48062"), (icd, "M48.08")])
    assert sql[0] and sql[0] == _python_signals(icd, "m48062")
    assert sql[1] == set() == _python_signals(icd, "M48.08")
