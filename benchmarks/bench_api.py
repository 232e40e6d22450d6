"""Load benchmark: POST /api/v1/assess at 50 concurrent clients on loopback.

Baseline measured in the same run, on the same server process and middleware: a trivial
FastAPI endpoint that returns a constant. Prints throughput, p50/p99 latency, errors, and
the ratio assess/trivial (target: p99 within 3x, zero errors).

    python benchmarks/bench_api.py            # 3,000 requests per endpoint
    python benchmarks/bench_api.py --quick    # 600 requests per endpoint (< 60 s)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONCURRENCY = 50
REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO.parent / "shared" / "examples" / "hip-spine-syndrome.json"
FALLBACK_CASE = {
    "format": "hipspine.case/1", "age": 67, "setting": "spine_clinic",
    "symptoms": {"pain_locations": ["groin", "buttock", "posterior_thigh"],
                 "neurogenic_claudication": True, "relief_sitting": True, "limp": True},
    "exam": {"hip_internal_rotation_deg": 10, "pain_on_hip_internal_rotation": True},
}

SERVER = r'''
import sys, uvicorn
from fastapi import FastAPI
from hipspine.registry import get_engine, session_scope
from hipspine.web import store
from hipspine.web.app import create_app
from hipspine.web.settings import WebSettings

db, port, token_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
engine = get_engine(f"sqlite:///{db}")
with session_scope(engine) as s:
    user = store.create_user(s, "bench", "bench-password-1", "clinician")
    token = store.issue_token(s, store.Actor(user.id, user.username, user.role), "bench")
app = create_app(WebSettings(secret_key="bench"), engine=engine)

@app.post("/bench/trivial", include_in_schema=False)
def trivial() -> dict:
    return {"ok": True}

open(token_file, "w").write(token)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def load(url: str, body: dict, headers: dict, total: int) -> dict:
    """Closed-loop clients on raw asyncio HTTP/1.1 keep-alive connections with one
    pre-encoded request: the client shares the cores with the server, so it must be cheap
    (httpx cost more CPU than the endpoint under test)."""
    import re

    hostport, path = url.split("://", 1)[1].split("/", 1)
    host, port = hostport.split(":")
    payload = json.dumps(body).encode()
    request = (f"POST /{path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: "
               f"application/json\r\nContent-Length: {len(payload)}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    request += payload
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    remaining = [total]

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                start = time.perf_counter()
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head.split(b" ", 2)[1])
                    found = re.search(rb"(?i)content-length: *(\d+)", head)
                    await reader.readexactly(int(found[1]) if found else 0)
                    ok = status == 200
                    kind = f"HTTP {status}"
                except (OSError, asyncio.IncompleteReadError) as exc:
                    ok = False
                    kind = type(exc).__name__
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                if not ok:
                    kinds[kind] = kinds.get(kind, 0) + 1
                latencies.append(time.perf_counter() - start)
                errors += 0 if ok else 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"requests": total, "errors": errors, "error_kinds": kinds,
            "throughput": total / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run, under 60 s")
    args = parser.parse_args()
    total = 600 if args.quick else 3000
    case = json.loads(EXAMPLE.read_text()) if EXAMPLE.is_file() else FALLBACK_CASE
    with tempfile.TemporaryDirectory(prefix="hipspine-bench-api-") as tmp:
        port = free_port()
        token_file = Path(tmp) / "token"
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(Path(tmp) / "registry.sqlite"), str(port),
             str(token_file)], env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            deadline = time.monotonic() + 60
            import httpx

            while True:
                if server.poll() is not None:
                    print("server exited early", file=sys.stderr)
                    return 1
                try:
                    if token_file.is_file() and httpx.post(
                            f"http://127.0.0.1:{port}/bench/trivial").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    print("server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            headers = {"Authorization": f"Bearer {token_file.read_text()}"}
            base = f"http://127.0.0.1:{port}"
            asyncio.run(load(f"{base}/api/v1/assess", case, headers, 100))  # warm-up
            trivial = asyncio.run(load(f"{base}/bench/trivial", {}, {}, total))
            assess = asyncio.run(load(f"{base}/api/v1/assess", case, headers, total))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"POST /api/v1/assess vs a trivial FastAPI endpoint, {CONCURRENCY} concurrent "
          f"clients, {total} requests each, loopback")
    print(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in (("trivial (baseline)", trivial), ("assess", assess)):
        print(f"{name:<22}{r['throughput']:>10.1f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}"
              f"{r['errors']:>8}")
    p99_ratio = assess["p99_ms"] / trivial["p99_ms"]
    print(f"{'ratio assess/trivial':<22}{assess['throughput'] / trivial['throughput']:>10.2f}"
          f"{assess['p50_ms'] / trivial['p50_ms']:>10.2f}{p99_ratio:>10.2f}")
    for name, r in (("trivial", trivial), ("assess", assess)):
        if r["error_kinds"]:
            print(f"errors on {name}: {r['error_kinds']}")
    verdict = "met" if p99_ratio <= 3 and assess["errors"] == 0 else "NOT met"
    print(f"target p99 within 3x of trivial and zero errors: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
