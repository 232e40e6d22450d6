"""`hipspine serve --workers N`: each worker on its own SO_REUSEPORT socket, shared settings
and `jti` store, clean stop; and the warm-up + gc.freeze every serving process does first."""

from __future__ import annotations

import gc
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.ehr.cds_helpers import Ehr

from hipspine.web.server import ready, reuse_port_balances

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not reuse_port_balances(),
                                reason="several workers need SO_REUSEPORT (Linux)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ready_warms_up_then_freezes_the_heap() -> None:
    calls: list[str] = []
    app = SimpleNamespace(state=SimpleNamespace(warm_up=lambda: calls.append("warm")))
    try:
        assert ready(app) is app
        assert calls == ["warm"]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_web_app_warm_up_assesses_without_error() -> None:
    from hipspine.web.app import _warm_up

    _warm_up()  # loads every knowledge base the first patient would need


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _server_side_inodes(port: int) -> dict[int, int]:
    """Established connections to `port`: client port -> inode of the server's socket."""
    out = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        local_port = int(parts[1].split(":")[1], 16)
        remote_port = int(parts[2].split(":")[1], 16)
        if local_port == port and parts[3] == "01":  # 01 = ESTABLISHED
            out[remote_port] = int(parts[9])
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process has just exited
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


@pytest.fixture()
def two_workers(tmp_path: Path) -> Iterator[SimpleNamespace]:
    ehr = Ehr()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, HIPSPINE_DATABASE_URL=f"sqlite:///{tmp_path / 'registry.sqlite'}",
               HIPSPINE_CDS_ISSUERS=json.dumps([{"iss": "https://ehr.example.org/",
                                                 "jwks": ehr.jwks}]),
               HIPSPINE_CDS_BASE_URL=base)
    env.pop("HIPSPINE_CDS_REPLAY_DB", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "hipspine", "serve", "--port",
                                   str(port), "--workers", "2"], env=env, cwd=ROOT,
                                  stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while len(_children_serving(server.pid, port)) < 2:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"hipspine serve did not start: {log.read_text()[-1500:]}")
                time.sleep(0.2)
            yield SimpleNamespace(server=server, port=port, ehr=ehr, base=base, log=log)
        finally:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)


def _children_serving(pid: int, port: int) -> list[int]:
    """Worker processes of `pid` that answer on `port` (each owns a listening socket)."""
    listening = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].split(":")[1], 16) == port and parts[3] == "0A":  # 0A = LISTEN
            listening.add(int(parts[9]))
    return [c for c in _children(pid) if _socket_inodes(c) & listening]


def _patient_view(conn: http.client.HTTPConnection, token: str) -> int:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "p1"},
                         "conditions": {"resourceType": "Bundle", "type": "searchset"},
                         "procedures": {"resourceType": "Bundle", "type": "searchset"}}}
    conn.request("POST", "/cds-services/hipspine-consider", json.dumps(body),
                 {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    response.read()
    return response.status


@linux_only
def test_workers_share_the_connections_and_stop_together(two_workers: Any) -> None:
    workers = _children_serving(two_workers.server.pid, two_workers.port)
    assert len(workers) == 2
    connections = []
    for _ in range(24):  # all on one worker by chance: probability 2 in 2**24
        conn = http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=10)
        conn.request("GET", "/cds-services")
        assert b"hipspine-consider" in conn.getresponse().read()
        connections.append(conn)
    by_client_port = _server_side_inodes(two_workers.port)
    owned = {w: _socket_inodes(w) for w in workers}
    per_worker = {w: sum(by_client_port.get(c.sock.getsockname()[1]) in inodes
                         for c in connections) for w, inodes in owned.items()}
    assert sum(per_worker.values()) == 24
    assert all(n > 0 for n in per_worker.values()), per_worker
    for conn in connections:
        conn.close()

    two_workers.server.send_signal(signal.SIGTERM)
    assert two_workers.server.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{w}").exists() and "Z" not in
                   Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]
                   for w in workers)
    with socket.socket() as plain:  # nobody holds the port any more
        plain.bind(("127.0.0.1", two_workers.port))


@linux_only
def test_a_token_used_on_one_worker_is_refused_by_every_worker(two_workers: Any) -> None:
    token = two_workers.ehr.token(aud=f"{two_workers.base}/cds-services/hipspine-consider")
    first = http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=30)
    assert _patient_view(first, token) == 200
    first.close()
    replays = []
    for _ in range(12):  # fresh connections: each lands on either worker
        conn = http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=30)
        replays.append(_patient_view(conn, token))
        conn.close()
    assert replays == [401] * 12


@linux_only
@pytest.mark.parametrize("reuse_port", [False, True], ids=["plain", "reuse-port"])
def test_a_taken_port_is_a_clear_error(tmp_path: Path, reuse_port: bool) -> None:
    """Also when the holder uses SO_REUSEPORT (a server left running from before): our
    workers must not join its group and share its connections."""
    with socket.socket() as taken:
        if reuse_port:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = dict(os.environ, HIPSPINE_DATABASE_URL=f"sqlite:///{tmp_path / 'r.sqlite'}")
        result = subprocess.run([sys.executable, "-m", "hipspine", "serve", "--port", str(port),
                                 "--workers", "2"], env=env, cwd=ROOT, capture_output=True,
                                text=True, timeout=120)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.replace("\n", "")


def test_several_workers_never_allow_more_failed_log_ins_than_one(monkeypatch: Any) -> None:
    from hipspine.commands import serve as serve_command
    from hipspine.web.settings import WebSettings

    seen: list[Any] = []

    def run(target: Any, options: Any) -> None:
        seen.append((target, options, os.environ.get("HIPSPINE_CDS_REPLAY_DB")))

    monkeypatch.delenv("HIPSPINE_CDS_REPLAY_DB", raising=False)
    monkeypatch.setattr("hipspine.web.server.run", run)
    serve_command._serve(WebSettings(login_max_attempts=5), "127.0.0.1", 8000, 2)
    target, options, replay_db = seen[0]
    assert replay_db and replay_db.endswith("cds-jti.sqlite")  # shared by the workers
    assert "HIPSPINE_CDS_REPLAY_DB" not in os.environ          # and only while they run
    assert options.workers == 2
    assert target.args[0].login_max_attempts * options.workers <= 5
    assert target.factory == "hipspine.web.app:create_app"


def test_one_worker_serves_warmed_up_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ, HIPSPINE_DATABASE_URL=f"sqlite:///{tmp_path / 'r.sqlite'}")
    server = subprocess.Popen([sys.executable, "-m", "hipspine", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login")
                response = conn.getresponse()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("hipspine serve did not start")
                time.sleep(0.2)
        assert response.status == 200 and response.getheader("x-frame-options") == "DENY"
        conn.close()
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert server.returncode in (0, -signal.SIGTERM)
        assert "Finished server process" in output
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@linux_only
def test_a_worker_that_dies_is_replaced(two_workers: Any) -> None:
    from hipspine.web.server import EARLY_DEATH_SECONDS

    workers = _children_serving(two_workers.server.pid, two_workers.port)
    time.sleep(EARLY_DEATH_SECONDS)  # a death on start-up stops the server instead
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 90
    while True:
        now_serving = _children_serving(two_workers.server.pid, two_workers.port)
        if len(now_serving) == 2 and workers[0] not in now_serving:
            break
        assert two_workers.server.poll() is None, two_workers.log.read_text()[-1500:]
        assert time.monotonic() < deadline, "the dead worker was not replaced"
        time.sleep(0.2)
    assert workers[1] in now_serving
