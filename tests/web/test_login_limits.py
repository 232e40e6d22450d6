"""The log-in limit counts per (user name, address), per user name from every address, and
per address for every user name; the address is the connecting peer's, and X-Forwarded-For
counts only when that peer is a configured trusted proxy (never by default, and never through
uvicorn's own proxy-header handling)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import PASSWORDS, csrf_of

ROOT = Path(__file__).resolve().parents[2]


def _app(engine: Any, **settings: Any) -> Any:
    from hipspine.web.app import create_app
    from hipspine.web.settings import WebSettings

    base = {"secret_key": "k", "login_max_attempts": 3, "login_window_s": 60,
            "login_max_per_user": 100, "login_max_per_address": 100}
    return create_app(WebSettings(**(base | settings)), engine=engine)


def _attempt(client: TestClient, username: str, password: str,
             headers: dict[str, str] | None = None) -> int:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(page.text)},
                       headers=headers or {}, follow_redirects=False).status_code


def test_a_new_x_forwarded_for_each_time_changes_nothing_without_trusted_proxies(
        engine: Any) -> None:
    with TestClient(_app(engine), client=("203.0.113.7", 5000)) as client:
        for n in range(3):
            assert _attempt(client, "clin", "wrong-pass", {"X-Forwarded-For": f"10.9.9.{n}"}
                            ) == 401
        assert _attempt(client, "clin", PASSWORDS["clin"],
                        {"X-Forwarded-For": "10.9.9.200"}) == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(engine: Any) -> None:
    app = _app(engine, trusted_proxies="10.0.0.0/24, 2001:db8::1")
    with TestClient(app, client=("10.0.0.2", 5000)) as proxy:
        for _ in range(3):
            assert _attempt(proxy, "clin", "wrong-pass",
                            {"X-Forwarded-For": "198.51.100.1"}) == 401
        assert _attempt(proxy, "clin", "wrong-pass", {"X-Forwarded-For": "198.51.100.1"}
                        ) == 429
        # another client behind the same proxy is not locked out
        assert _attempt(proxy, "clin", PASSWORDS["clin"],
                        {"X-Forwarded-For": "198.51.100.2"}) == 303


def test_guessing_one_account_from_many_addresses_is_limited(engine: Any) -> None:
    """Per user name, whichever address the attempts come from (a botnet, or forged
    forwarded-for headers through a proxy that passes them on)."""
    app = _app(engine, trusted_proxies="10.0.0.2", login_max_per_user=5)
    with TestClient(app, client=("10.0.0.2", 5000)) as proxy:
        for n in range(5):
            assert _attempt(proxy, "clin", "wrong-pass",
                            {"X-Forwarded-For": f"198.51.100.{n}"}) == 401
        assert _attempt(proxy, "CLIN", PASSWORDS["clin"],
                        {"X-Forwarded-For": "198.51.100.77"}) == 429
        assert _attempt(proxy, "clin2", PASSWORDS["clin2"],
                        {"X-Forwarded-For": "198.51.100.77"}) == 303


def test_spraying_many_user_names_from_one_address_is_limited(engine: Any) -> None:
    app = _app(engine, login_max_per_address=6)
    with TestClient(app, client=("203.0.113.9", 5000)) as client:
        for n in range(6):
            assert _attempt(client, f"user{n}", "Winter2026!") == 401
        assert _attempt(client, "clin", PASSWORDS["clin"]) == 429
    with TestClient(app, client=("203.0.113.10", 5000)) as elsewhere:
        assert _attempt(elsewhere, "clin", PASSWORDS["clin"]) == 303


def test_client_address_walks_forwarded_for_from_the_right() -> None:
    from hipspine.web.security import client_address, parse_trusted_proxies

    trusted = parse_trusted_proxies("10.0.0.0/8,192.0.2.1")
    assert client_address("203.0.113.5", ["1.2.3.4"], trusted) == "203.0.113.5"
    assert client_address("10.0.0.1", ["198.51.100.9"], trusted) == "198.51.100.9"
    # the client may prepend anything; the proxies append what they saw
    assert client_address("10.0.0.1", ["6.6.6.6, 198.51.100.9, 10.1.1.1"], trusted) \
        == "198.51.100.9"
    assert client_address("10.0.0.1", ["6.6.6.6", "198.51.100.9"], trusted) == "198.51.100.9"
    assert client_address("10.0.0.1", [], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", ["not-an-address"], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", ["10.2.2.2"], trusted) == "10.2.2.2"
    assert client_address("::ffff:10.0.0.1", ["[2001:db8::5]:443"], trusted) == "2001:db8::5"
    assert client_address("10.0.0.1", ["198.51.100.9:5555"], trusted) == "198.51.100.9"
    assert client_address(None, ["1.2.3.4"], trusted) == "unknown"
    assert client_address("10.0.0.1", ["198.51.100.9"], ()) == "10.0.0.1"


def test_trusted_proxies_setting_is_checked() -> None:
    from pydantic import ValidationError

    from hipspine.errors import InputError
    from hipspine.web.security import parse_trusted_proxies
    from hipspine.web.settings import WebSettings

    assert parse_trusted_proxies("") == ()
    assert len(parse_trusted_proxies(" 10.0.0.1 , fd00::/8 ")) == 2
    with pytest.raises((InputError, ValidationError), match="not-a-proxy"):
        WebSettings(trusted_proxies="10.0.0.1, not-a-proxy")


def test_the_limiter_forgets_aged_out_names() -> None:
    from hipspine.web.security import LoginRateLimiter

    limiter = LoginRateLimiter(3, 10)
    limiter.PRUNE_EVERY = 10
    for n in range(25):
        limiter.record_failure(f"made-up-{n}", "203.0.113.1", now=float(n * 20))
    assert len(limiter._failures) < 20   # 25 names x 3 counts, less what aged out
    assert limiter.retry_after("made-up-24", "203.0.113.1", now=481.0) == 0.0
    limiter = LoginRateLimiter(2, 10, max_per_user=3, max_per_address=4)
    for address in ("a", "b", "c"):
        limiter.record_failure("u", address, now=0.0)
    assert limiter.retry_after("u", "d", now=1.0) == pytest.approx(9.0)
    assert limiter.retry_after("u", "d", now=10.5) == 0.0


# --------------------------------------------------------------------------- the real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def served(tmp_path: Path, template_registry: Path) -> Iterator[str]:
    """`hipspine serve` on a copy of the test registry, as a clinic runs it."""
    import shutil

    shutil.copyfile(template_registry, tmp_path / "registry.sqlite")
    port = _free_port()
    env = dict(os.environ, HIPSPINE_DATABASE_URL=f"sqlite:///{tmp_path / 'registry.sqlite'}",
               HIPSPINE_LOGIN_MAX_ATTEMPTS="3", HIPSPINE_LOGIN_MAX_PER_USER="100",
               HIPSPINE_LOGIN_MAX_PER_ADDRESS="100", HIPSPINE_SECRET_KEY="k")
    for name in ("FORWARDED_ALLOW_IPS", "HIPSPINE_TRUSTED_PROXIES"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "hipspine", "serve", "--port",
                                   str(port)], env=env, cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"hipspine serve did not start: {log.read_text()[-1500:]}")
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_served_app_ignores_forwarded_for_from_loopback(served: str) -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, so a local
    process (or a proxy that passes the header on) could pick a new address per attempt."""
    import httpx

    with httpx.Client(base_url=served, timeout=30) as client:
        codes = []
        for n in range(4):
            page = client.get("/login")
            codes.append(client.post("/login", data={
                "username": "clin", "password": "wrong-pass", "csrf_token": csrf_of(page.text)},
                headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code)
    assert codes == [401, 401, 401, 429]
