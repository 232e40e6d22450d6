"""Writers at the same moment: real processes released together from a barrier (each stopped
before its first SQL statement), and an API request racing another writer's commit.

- Processes starting together on a new registry migrate it once; none fails.
- Two imports of the same file: one imports, the other exits 2 naming the clash.
- Two synth runs: both cohorts complete (their explicit ids never collide).
- POST /api/v1/patients losing a race on the pseudonym: 409 naming it, not a 500.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from tests.reliability import harness

from hipspine.registry import get_engine
from hipspine.registry.database import current_revision

pytestmark = pytest.mark.slow


def released_together(url: str, *commands: tuple[str, ...],
                      pause_at: int = 1) -> list[harness.Outcome]:
    """Start every command, wait until each is stopped before SQL step `pause_at`, then
    let them all go at once."""
    children = [harness.Child(url, *args, pause_at=pause_at) for args in commands]
    for child in children:
        assert child.wait_paused(), child.finish().stderr
    for child in children:
        child.release()
    return [child.finish() for child in children]


def scalar(url: str, sql: str) -> Any:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def test_processes_starting_together_on_a_new_registry_migrate_it_once(fresh_url, tmp_path):
    url = fresh_url()
    files = []
    for name in ("T1", "T2", "T3"):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps([{"record": "patient", "pseudonym": name}]))
        files.append(str(path))
    # Step 2: each has looked for a schema (step 1) and found none, so each would create it.
    outcomes = released_together(url, ("registry", "import", files[0]),
                                 ("registry", "import", files[1]),
                                 ("registry", "import", files[2]),
                                 pause_at=2)
    for outcome in outcomes:
        assert outcome.returncode == 0, outcome.messages
    assert scalar(url, "SELECT COUNT(*) FROM alembic_version") == 1
    engine = get_engine(url)
    try:
        assert current_revision(engine) == "0003"
    finally:
        engine.dispose()
    assert scalar(url, "SELECT COUNT(*) FROM patients") == 3
    migrated = harness.run(url, "registry", "migrate")  # and the migrate command after them
    assert migrated.returncode == 0 and "0003" in migrated.stdout


def test_two_imports_of_the_same_file_one_imports_the_other_exits_2(fresh_url, tmp_path):
    url = fresh_url()
    get_engine(url).dispose()  # a migrated, empty registry
    rows = []
    for n in range(300):
        rows += [{"record": "patient", "pseudonym": f"C{n:04d}", "year_of_birth": 1960},
                 {"record": "prom", "pseudonym": f"C{n:04d}", "instrument": "odi",
                  "administered_on": "2024-03-01", "items": [1, 2, 3, 2, 1, 0, 1, 2, 3, 1]}]
    path = tmp_path / "same.json"
    path.write_text(json.dumps(rows))
    outcomes = released_together(url, ("registry", "import", str(path)),
                                 ("registry", "import", str(path)))
    codes = sorted(o.returncode for o in outcomes)
    assert codes == [0, 2], [o.messages[-1500:] for o in outcomes]
    loser = next(o for o in outcomes if o.returncode == 2)
    text = " ".join(loser.messages.split())
    assert "conflict" in text and "rows[0].pseudonym" in text and "'C0000'" in text
    assert "Traceback" not in loser.stderr and "IntegrityError" not in loser.stderr
    assert scalar(url, "SELECT COUNT(*) FROM patients") == 300
    assert scalar(url, "SELECT COUNT(*) FROM audit_events "
                       "WHERE action = 'registry.import'") == 1


def test_two_synth_runs_at_once_both_complete(fresh_url):
    url = fresh_url()
    get_engine(url).dispose()
    outcomes = released_together(url, ("synth", "--patients", "200", "--seed", "1"),
                                 ("synth", "--patients", "150", "--seed", "2"))
    for outcome in outcomes:
        assert outcome.returncode == 0, outcome.messages[-1500:]
    assert scalar(url, "SELECT COUNT(*) FROM patients") == 350
    assert scalar(url, "SELECT COUNT(DISTINCT patient_id) FROM episodes") == 350


def test_api_create_patient_losing_a_race_is_409_naming_the_pseudonym(fresh_url):
    """The store's check sees no RACE-1 yet; another writer commits it before the INSERT."""
    from fastapi.testclient import TestClient

    from hipspine.registry import session_scope
    from hipspine.web import store
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    url = fresh_url()
    engine = get_engine(url)
    with session_scope(engine) as s:
        user = store.create_user(s, "race-admin", "race-password-1", "admin")
        token = store.issue_token(s, store.Actor(user.id, user.username, user.role), "race")
    at_insert = threading.Event()

    def inserting(_conn, _cursor, statement, *_args):  # the request's INSERT is next
        if statement.startswith("INSERT INTO patients"):
            at_insert.set()

    other = engine.connect()
    other.execute(sa.text("INSERT INTO patients (pseudonym, synthetic, created_at) "
                          "VALUES ('RACE-1', false, CURRENT_TIMESTAMP)"))  # not committed
    answer: dict[str, Any] = {}
    client = TestClient(create_app(WebSettings(secret_key="k"), engine=engine))
    client.headers["Authorization"] = f"Bearer {token}"

    def post() -> None:
        answer["response"] = client.post("/api/v1/patients", json={"pseudonym": "RACE-1"})

    worker = threading.Thread(target=post)
    sa.event.listen(sa.Engine, "before_cursor_execute", inserting)
    try:
        with client:
            worker.start()
            reached = at_insert.wait(60)
            time.sleep(0.3)  # it is now waiting for the other writer's lock or row
            other.commit()  # in any case, so that the request can end
            other.close()
            worker.join(60)
            assert reached, "the request never reached its INSERT"
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", inserting)
        if not other.closed:
            other.close()
        engine.dispose()
    response = answer["response"]
    assert response.status_code == 409, response.text
    [problem] = response.json()["problems"]
    assert (problem["field"], problem["value"]) == ("pseudonym", "RACE-1")
