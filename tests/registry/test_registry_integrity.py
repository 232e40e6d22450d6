"""Every registry write all or nothing: migrations (a half-made schema too), concurrent
imports, and one rule for pseudonyms and clinical dates in the import and the API.

Kill -9 at random points of real processes is in tests/reliability."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from hipspine.errors import InputError
from hipspine.registry import get_engine, migrate
from hipspine.registry.database import current_revision
from hipspine.registry.transfer import import_rows

REGISTRY_TABLES = {"patients", "episodes", "treatments", "prom_administrations", "users",
                   "audit_events", "cds_jti", "web_sessions", "patient_links",
                   "spinopelvic_results"}
PATIENT = {"record": "patient", "pseudonym": "A1", "year_of_birth": 1950, "sex": "female"}


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def half_made(engine: sa.Engine) -> None:
    """What a kill during the first migration left under the old code: alembic_version
    (empty) and the first few tables of 0001, the rest missing."""
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
        for name in ("patient_links", "web_sessions", "cds_jti", "treatments",
                     "prom_administrations", "plans", "assessments", "patient_assignments"):
            conn.execute(sa.text(f"DROP TABLE {name}"))


@pytest.mark.parametrize("version_table", [True, False])
def test_a_half_made_schema_is_rebuilt_on_first_use(db_url, version_table):
    engine = get_engine(db_url, auto_migrate=False)
    half_made(engine)
    if not version_table:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
    assert REGISTRY_TABLES - tables(engine)  # some tables are missing
    engine.dispose()
    again = get_engine(db_url)  # first use again: finds no revision, rebuilds
    try:
        assert current_revision(again) == "0003"
        assert REGISTRY_TABLES <= tables(again)
        assert import_rows(again, [PATIENT]).patients == 1
    finally:
        again.dispose()


def test_registry_migrate_rebuilds_a_half_made_schema(db_url):
    engine = get_engine(db_url, auto_migrate=False)
    half_made(engine)
    migrate(engine)  # what `hipspine registry migrate` runs
    assert current_revision(engine) == "0003" and REGISTRY_TABLES <= tables(engine)
    engine.dispose()


def test_unrecorded_tables_holding_rows_are_refused_and_left_alone(db_url):
    engine = get_engine(db_url, auto_migrate=False)
    half_made(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO patients (pseudonym, synthetic, created_at) "
                             "VALUES ('KEEP-1', false, CURRENT_TIMESTAMP)"))
    with pytest.raises(InputError) as info:
        get_engine(db_url)  # first use: finds no revision
    [problem] = info.value.problems
    assert problem.field == "HIPSPINE_DATABASE_URL"
    assert "patients" in problem.message and "nothing was changed" in problem.message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT pseudonym FROM patients")).scalar_one() == "KEEP-1"
    engine.dispose()


def test_a_migration_failing_midway_leaves_no_table(db_url):
    """DDL is inside the migration's transaction on SQLite too (pysqlite alone would run
    each CREATE TABLE outside it, keeping the tables made before the failure)."""
    engine = get_engine(db_url, auto_migrate=False)

    def fail_on_episodes(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("CREATE TABLE episodes"):
            raise RuntimeError("killed here")

    sa.event.listen(sa.Engine, "before_cursor_execute", fail_on_episodes)
    try:
        with pytest.raises(RuntimeError):
            migrate(engine)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", fail_on_episodes)
    assert not tables(engine) & (REGISTRY_TABLES | {"alembic_version"})
    migrate(engine)
    assert current_revision(engine) == "0003"
    engine.dispose()


def test_sqlite_pragmas_hold_on_sessions_and_migrations(tmp_path):
    """WAL and foreign keys on every connection: ORM sessions, the migration's own."""
    from hipspine.registry import session_scope
    from hipspine.registry.database import write_transaction

    engine = get_engine(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with session_scope(engine) as s:
        assert s.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    with write_transaction(engine) as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(sa.exc.IntegrityError):  # an orphan episode is refused
            conn.exec_driver_sql("INSERT INTO episodes (patient_id, opened_on, synthetic) "
                                 "VALUES (999, '2024-01-01', 0)")
    engine.dispose()


# --- concurrent writers -----------------------------------------------------------------

def test_an_import_racing_another_writer_gets_a_conflict_naming_the_pseudonym(engine,
                                                                              table_counts):
    """Another writer inserts A1 and commits while the import runs: the import fails with
    a ConflictError naming the row and pseudonym, not a raw IntegrityError."""
    other = engine.connect()
    other.execute(sa.text("INSERT INTO patients (pseudonym, synthetic, created_at) "
                          "VALUES ('A1', false, CURRENT_TIMESTAMP)"))  # not yet committed
    outcome: dict[str, BaseException] = {}

    def run_import() -> None:
        try:
            import_rows(engine, [PATIENT, {**PATIENT, "pseudonym": "A2"}])
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run_import)
    worker.start()
    time.sleep(1.0)  # the import is now waiting (write lock, or A1's unique index entry)
    other.commit()
    other.close()
    worker.join(60)
    error = outcome.get("error")
    assert type(error).__name__ == "ConflictError", repr(error)
    assert isinstance(error, InputError)  # the CLI's exit 2
    [problem] = error.problems
    assert (problem.field, problem.value) == ("rows[0].pseudonym", "A1")
    assert str(error).startswith("conflict:")
    assert table_counts(engine)["patients"] == 1  # only the other writer's A1


def test_reimporting_registered_patients_is_a_conflict(engine):
    from hipspine.errors import ConflictError

    import_rows(engine, [PATIENT])
    with pytest.raises(ConflictError) as info:
        import_rows(engine, [PATIENT])
    assert info.value.problems[0].value == "A1"


# --- one rule for pseudonyms and clinical dates -------------------------------------------

BAD_PSEUDONYMS = ["A\x001", "A 1", "A1 \u00e9", "P-\U0001f600", "x" * 65, "A1\n", " A1", ""]
BAD_DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "2024-02-30", "20240101",
             (dt.date.today() + dt.timedelta(days=2)).isoformat()]


@pytest.mark.parametrize("pseudonym", BAD_PSEUDONYMS)
def test_import_refuses_pseudonyms_the_api_refuses(engine, table_counts, pseudonym):
    from pydantic import ValidationError

    from hipspine.web.schemas import PatientCreate

    before = table_counts(engine)
    with pytest.raises(InputError) as imported:
        import_rows(engine, [{"record": "patient", "pseudonym": pseudonym}])
    with pytest.raises(ValidationError) as api:
        PatientCreate.model_validate({"pseudonym": pseudonym})
    [problem] = imported.value.problems
    assert (problem.field, problem.value) == ("rows[0].pseudonym", pseudonym)
    assert "letter" in problem.allowed and "64" in problem.allowed
    assert api.value.errors()[0]["msg"] == problem.allowed  # the same rule, same words
    assert table_counts(engine) == before


@pytest.mark.parametrize("field", ["opened_on", "closed_on", "performed_on", "administered_on"])
@pytest.mark.parametrize("day", BAD_DATES)
def test_import_refuses_dates_before_1900_or_in_the_future(engine, field, day):
    import_rows(engine, [PATIENT])
    row = {"episode": {"record": "episode", "pseudonym": "A1", "opened_on": "2024-01-01"},
           "treatment": {"record": "treatment", "pseudonym": "A1", "type": "physiotherapy",
                         "target": "spine", "performed_on": "2024-02-01"},
           "prom": {"record": "prom", "pseudonym": "A1", "instrument": "nrs_back",
                    "items": [4], "administered_on": "2024-02-01"}}
    kind = {"opened_on": "episode", "closed_on": "episode", "performed_on": "treatment",
            "administered_on": "prom"}[field]
    with pytest.raises(InputError) as info:
        import_rows(engine, [{**row[kind], field: day}])
    [problem] = info.value.problems
    assert (problem.field, problem.value) == (f"rows[0].{field}", day)
    assert "1900-01-01" in problem.allowed and "not in the future" in problem.allowed


@pytest.mark.parametrize("day", BAD_DATES)
def test_api_bodies_refuse_the_same_dates(day):
    from hipspine.models import parse_model
    from hipspine.web.schemas import EpisodeCreate, PromCreate, TreatmentCreate

    for model, body, field in (
            (EpisodeCreate, {}, "opened_on"),
            (TreatmentCreate, {"type": "physiotherapy", "target": "spine"}, "performed_on"),
            (PromCreate, {"instrument": "nrs_back", "items": [4]}, "administered_on")):
        with pytest.raises(InputError) as info:
            parse_model(model, {**body, field: day}, "request")
        [problem] = info.value.problems
        assert problem.field == field and "not in the future" in problem.allowed


def test_the_first_and_last_allowed_dates_are_accepted(engine):
    from hipspine.models.registry_fields import latest_clinical_date

    today = dt.date.today().isoformat()
    result = import_rows(engine, [
        PATIENT,
        {"record": "episode", "pseudonym": "A1", "opened_on": "1900-01-01",
         "closed_on": latest_clinical_date().isoformat()},
        {"record": "prom", "pseudonym": "A1", "instrument": "nrs_back", "items": [3],
         "administered_on": today}])
    assert (result.episodes, result.proms) == (1, 1)


@pytest.mark.parametrize(("column", "value"), [("level", "L4\x00L5"), ("level", "L" * 17),
                                               ("pathway", "hip\x1bfirst")])
def test_import_refuses_free_text_the_registry_cannot_hold(engine, column, value):
    import_rows(engine, [PATIENT])
    row = ({"record": "treatment", "pseudonym": "A1", "type": "lumbar_fusion",
            "target": "spine", "performed_on": "2024-02-01"} if column == "level" else
           {"record": "episode", "pseudonym": "A1", "opened_on": "2024-01-01"})
    with pytest.raises(InputError) as info:
        import_rows(engine, [{**row, column: value}])
    assert info.value.problems[0].field == f"rows[0].{column}"


@pytest.mark.parametrize("year", [1889, dt.date.today().year + 2, "nineteen-fifty"])
def test_import_and_api_refuse_the_same_years_of_birth(engine, table_counts, year):
    from pydantic import ValidationError

    from hipspine.web.schemas import PatientCreate

    before = table_counts(engine)
    with pytest.raises(InputError) as imported:
        import_rows(engine, [{"record": "patient", "pseudonym": "Y1", "year_of_birth": year}])
    [problem] = imported.value.problems
    assert problem.field == "rows[0].year_of_birth"
    assert problem.allowed.startswith("a year from 1890 to ")
    if isinstance(year, int):
        with pytest.raises(ValidationError) as api:
            PatientCreate.model_validate({"pseudonym": "Y1", "year_of_birth": year})
        assert api.value.errors()[0]["msg"] == problem.allowed  # one rule, same words
    assert table_counts(engine) == before
