"""Web fixtures: an app on a temporary SQLite registry with one account per role."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

PASSWORDS = {"clin": "clin-password-1", "clin2": "clin2-password-1",
             "res": "res-password-1", "adm": "adm-password-1"}
ROLES = {"clin": "clinician", "clin2": "clinician", "res": "researcher", "adm": "admin"}


@pytest.fixture(scope="session")
def template_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated registry with one account per role, built once (argon2 is slow on purpose)."""
    from hipspine.registry import get_engine, session_scope
    from hipspine.web import store

    path = tmp_path_factory.mktemp("template") / "registry.sqlite"
    engine = get_engine(f"sqlite:///{path}")
    with session_scope(engine) as s:
        for name, role in ROLES.items():
            store.create_user(s, name, PASSWORDS[name], role)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture()
def engine(tmp_path: Path, template_registry: Path) -> Iterator[Any]:
    """A fresh copy of the template registry for each test."""
    from hipspine.registry import get_engine

    target = tmp_path / "registry.sqlite"
    shutil.copyfile(template_registry, target)
    engine = get_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


@pytest.fixture()
def app(engine: Any) -> Any:
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    settings = WebSettings(database_url=str(engine.url), secret_key="test-secret",
                           login_max_attempts=3, login_window_s=60)
    return create_app(settings, engine=engine)


@pytest.fixture()
def anon(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str | None = None) -> TestClient:
    page = client.get("/login")
    r = client.post("/login", data={"username": username,
                                    "password": password or PASSWORDS[username],
                                    "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/login").text)
    return client


@pytest.fixture()
def clinician(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield login(client, "clin")


@pytest.fixture()
def researcher(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield login(client, "res")


@pytest.fixture()
def admin(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield login(client, "adm")


def token_client(app: Any, client: TestClient) -> TestClient:
    """A fresh client authenticated only by an API token issued to `client`'s user."""
    token = client.post("/api/v1/tokens", json={"label": "test"}).json()["token"]
    machine = TestClient(app)
    machine.headers["Authorization"] = f"Bearer {token}"
    return machine


@contextmanager
def served_with_logs(app: Any, log_level: str = "debug",
                     loggers: tuple[str, ...] = ("", "uvicorn", "uvicorn.access",
                                                 "uvicorn.error", "hipspine")
                     ) -> Iterator[tuple[str, io.StringIO]]:
    """`app` under a real uvicorn on a free loopback port, with uvicorn's own logging set up;
    yields (base URL, the text of every record the named loggers write meanwhile)."""
    import logging
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level=log_level, access_log=True))
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    watched = [logging.getLogger(n) for n in loggers]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        for logger in watched:
            logger.addHandler(handler)
        yield f"http://127.0.0.1:{port}", sink
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        for logger in watched:
            logger.removeHandler(handler)


def intake_form(case: dict[str, Any], csrf: str, **extra: str) -> dict[str, Any]:
    """The intake form's fields for `case`, as a browser would post them."""
    from hipspine.web.intake import form_values

    data: dict[str, Any] = {"csrf_token": csrf}
    for path, value in form_values(case).items():
        if path != "format":
            data[path] = [str(v) for v in value] if isinstance(value, list) else str(value)
    data.update(extra)
    return data
