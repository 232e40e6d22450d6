"""Round trips through the typed repository on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hipspine.errors import InputError, NotFoundError
from hipspine.registry import repository as repo
from hipspine.registry import session_scope
from hipspine.registry.database import current_revision, downgrade, migrate

TABLES = {"patients", "episodes", "assessments", "plans", "treatments",
          "prom_administrations", "users", "api_tokens", "patient_assignments", "audit_events"}


def test_migrations_upgrade_and_downgrade(engine):
    assert current_revision(engine) == "0003"
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    downgrade(engine, "base")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    migrate(engine)
    assert TABLES <= set(sa.inspect(engine).get_table_names())


def test_patient_episode_treatment_prom_round_trip(engine):
    with session_scope(engine) as s:
        p = repo.create_patient(s, "P-1", year_of_birth=1950, sex="female")
        e = repo.open_episode(s, p.id, "2024-01-10", setting="spine_clinic", verdict="both",
                              pathway="hip_first")
        repo.add_treatment(s, p.id, "total_hip_arthroplasty", "hip", dt.date(2024, 3, 1),
                           side="left", episode_id=e.id)
        repo.submit_prom(s, p.id, "odi", [2, 3, 1, None, 0, 2, 1, 3, 2, 1], "2024-02-20",
                         timepoint="baseline", episode_id=e.id)
        repo.submit_prom(s, p.id, "zcq", [1] * 12, "2024-02-20", timepoint="baseline")
        pid, eid = p.id, e.id
    with session_scope(engine) as s:
        patient = repo.get_patient(s, pid)
        assert (patient.pseudonym, patient.year_of_birth, patient.sex) == ("P-1", 1950, "female")
        assert [x.verdict for x in repo.list_episodes(s, pid)] == ["both"]
        [thr] = repo.list_treatments(s, pid)
        assert (thr.type, thr.side, thr.episode_id) == ("total_hip_arthroplasty", "left", eid)
        odi, zcq = repo.list_proms(s, pid)
        assert odi.score == 33.3 and odi.missing_items == 1
        assert odi.items == [2, 3, 1, None, 0, 2, 1, 3, 2, 1]
        assert odi.scores["missing"] == ["s4"]
        assert zcq.scores["subscales"]["symptom_severity"] == 1
        assert patient.synthetic is False


def test_assessment_and_plan_keep_their_versions(engine):
    doc = {"format": "hipspine.assessment/1", "engine_version": "9.9.9",
           "knowledge_version": "2026.01.0", "verdict": "hip", "urgent": False, "sources": []}
    with session_scope(engine) as s:
        p = repo.create_patient(s, "P-2")
        e = repo.open_episode(s, p.id, "2024-05-01")
        repo.store_assessment(s, e.id, doc, created_by="clinician1")
        repo.store_plan(s, e.id, {**doc, "format": "hipspine.plan/1"})
        eid = e.id
    with session_scope(engine) as s:
        [stored] = repo.list_assessments(s, eid)
        assert stored.document == doc
        assert (stored.engine_version, stored.knowledge_version) == ("9.9.9", "2026.01.0")
    with pytest.raises(InputError) as info, session_scope(engine) as s:
        repo.store_assessment(s, eid, {"verdict": "hip"})
    assert info.value.problems[0].field == "engine_version"


def test_listing_paginates_and_filters(engine):
    with session_scope(engine) as s:
        for n in range(25):
            repo.create_patient(s, f"L-{n:02d}", year_of_birth=1940 + n,
                                sex="female" if n % 2 else "male", synthetic=n >= 20)
    with session_scope(engine) as s:
        page = repo.list_patients(s, offset=10, limit=10)
        assert page.total == 25 and next(p.pseudonym for p in page.items) == "L-10"
        assert repo.list_patients(s, sex="female").total == 12
        assert repo.list_patients(s, synthetic=True).total == 5
        assert repo.list_patients(s, born_from=1960).total == 5
        assert repo.list_patients(s, pseudonym_prefix="L-0").total == 10
        with pytest.raises(InputError):
            repo.list_patients(s, limit=0)


def test_bad_values_name_the_field_and_write_nothing(engine):
    with pytest.raises(InputError) as info, session_scope(engine) as s:
        p = repo.create_patient(s, "P-3")
        repo.open_episode(s, p.id, "2024-01-01", verdict="knee")
    assert info.value.problems[0].field == "verdict"
    with pytest.raises(InputError) as info, session_scope(engine) as s:
        p = repo.create_patient(s, "P-3")
        repo.submit_prom(s, p.id, "odi", [9] * 10, "2024-01-01")
    assert info.value.problems[0].field == "items[0]"
    with session_scope(engine) as s:
        assert repo.list_patients(s).total == 0
        with pytest.raises(NotFoundError):
            repo.get_patient(s, 12345)


def test_duplicate_pseudonym_is_refused(engine):
    with session_scope(engine) as s:
        repo.create_patient(s, "DUP")
    with pytest.raises(InputError) as info, session_scope(engine) as s:
        repo.create_patient(s, "DUP")
    assert info.value.problems[0].field == "pseudonym"


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO episodes (patient_id, opened_on, synthetic) "
                             "VALUES (999, '2024-01-01', false)"))
