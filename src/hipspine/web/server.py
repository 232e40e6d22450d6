"""Running an ASGI app in one process or in several worker processes.

Several workers are how one machine uses all its cores (the engine is pure Python under the
GIL). Why not `uvicorn --workers`: its workers share one listening socket, and each worker's
event loop accepts every connection waiting when it wakes, so when an EHR opens its pool of
keep-alive connections the idle worker takes most of them (measured: 41 of 50 connections on
one of two workers, which doubled CDS Hooks p99 latency). Here each worker listens on its
own socket with SO_REUSEPORT and the kernel spreads new connections across them by a hash of
the client's address and port. That needs Linux: elsewhere run one worker per port behind a
proxy.

Before serving, each process warms its app up (`app.state.warm_up`: knowledge loaded, engine
compiled) and then freezes what start-up made (`gc.freeze`): a full garbage collection over
the ~140,000 objects of a loaded app takes tens of milliseconds, during which every request
on that worker waits (measured: CDS Hooks p99 at almost three times the mean).

The supervisor (the parent process) restarts a worker that dies, and stops when a worker dies
within its first seconds (a broken configuration, or the port taken by another program).
"""

from __future__ import annotations

import errno
import gc
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from hipspine.errors import HipspineError

log = logging.getLogger("hipspine.web.server")

EARLY_DEATH_SECONDS = 5.0
PORT_TAKEN_EXIT = 3


class ServerError(HipspineError):
    """The server could not start (port taken, worker crashed on start-up)."""


@dataclass(frozen=True)
class AppTarget:
    """What each worker builds: `factory` ("module:callable") called with `args`.

    A factory rather than an app object because workers are fresh processes (spawned, not
    forked: forking a process that already holds database connections and threads is unsafe);
    `args` must be picklable."""

    factory: str
    args: tuple[Any, ...] = ()

    def build(self) -> Any:
        module, _, name = self.factory.partition(":")
        return getattr(importlib.import_module(module), name)(*self.args)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    uvicorn: dict[str, Any] = field(default_factory=dict)  # log_level, backlog, ...

    def uvicorn_options(self) -> dict[str, Any]:
        """uvicorn's settings; its proxy-header handling is off unless asked for: by default
        it believes X-Forwarded-For from 127.0.0.1, so any local process could choose its
        own address. The app reads the header itself, from HIPSPINE_TRUSTED_PROXIES only."""
        return {"proxy_headers": False} | self.uvicorn


def reuse_port_balances() -> bool:
    """True where SO_REUSEPORT spreads connections across listeners (Linux 3.9 and later)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def run(target: AppTarget, options: ServeOptions) -> None:
    """Serve until interrupted (SIGINT / SIGTERM)."""
    import uvicorn

    if options.workers <= 1:
        uvicorn.run(ready(target.build()), host=options.host, port=options.port,
                    **options.uvicorn_options())
        return
    if not reuse_port_balances():
        raise ServerError("several workers need Linux (SO_REUSEPORT); here run one worker "
                          "per port behind a proxy")
    _check_port_free(options.host, options.port)
    Supervisor(target, options).run()


def ready(app: Any) -> Any:
    """Warm `app` up, then keep the garbage collector off everything that exists so far
    (loaded knowledge, compiled engine, framework): collections then scan only what requests
    make, a few thousand objects instead of all of them."""
    warm_up = getattr(getattr(app, "state", None), "warm_up", None)
    if callable(warm_up):
        warm_up()
    gc.collect()
    gc.freeze()
    return app


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT; uvicorn calls listen() on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _check_port_free(host: str, port: int) -> None:
    """Fail before starting workers when anything listens on the port. Checked without
    SO_REUSEPORT: with it, a server left running from before (same user) would let our
    workers join its group and silently share its connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _worker(target: AppTarget, options: ServeOptions) -> None:
    """One worker process: its own listening socket, its own app, one uvicorn server."""
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM stops us
    _die_with_parent()
    try:
        sock = listening_socket(options.host, options.port)
    except OSError as exc:
        log.error("worker %d: cannot listen on %s:%d: %s", os.getpid(), options.host,
                  options.port, exc.strerror)
        sys.exit(PORT_TAKEN_EXIT if exc.errno == errno.EADDRINUSE else 1)
    config = uvicorn.Config(ready(target.build()), host=options.host, port=options.port,
                            **options.uvicorn_options())
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:
    """SIGTERM this worker if the supervisor dies without stopping it (killed -9): an orphan
    would keep a share of the port's connections and serve a stale configuration."""
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not glibc/musl: the supervisor still stops us
        pass


class Supervisor:
    """Starts `options.workers` workers, restarts one that dies, stops them all on a signal."""

    def __init__(self, target: AppTarget, options: ServeOptions) -> None:
        self.target = target
        self.options = options
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, tuple[Any, float]] = {}   # slot -> (process, started at)
        self._stopping = False

    def _start(self, slot: int) -> None:
        process = self._context.Process(target=_worker, args=(self.target, self.options),
                                        name=f"hipspine-worker-{slot}", daemon=False)
        process.start()
        self._workers[slot] = (process, time.monotonic())

    def _stop(self, *_: Any) -> None:
        self._stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT,
                                                                    signal.SIGTERM)}
        try:
            for slot in range(self.options.workers):
                self._start(slot)
            while not self._stopping:
                wait([p.sentinel for p, _ in self._workers.values()], timeout=0.5)
                for slot, (process, started) in list(self._workers.items()):
                    if process.is_alive() or self._stopping:
                        continue
                    if time.monotonic() - started < EARLY_DEATH_SECONDS:
                        raise ServerError(f"worker {slot} exited on start-up (exit code "
                                          f"{process.exitcode}); see its messages above")
                    log.warning("worker %d exited (code %s); restarting", slot,
                                process.exitcode)
                    self._start(slot)
        finally:
            self._shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _shutdown(self) -> None:
        processes = [p for p, _ in self._workers.values()]
        for process in processes:
            if process.is_alive():
                process.terminate()   # SIGTERM: uvicorn finishes open requests, then exits
        deadline = time.monotonic() + 10
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

