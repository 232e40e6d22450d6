"""Passwords, API tokens, CSRF tokens and the log-in rate limiter.

Passwords use argon2id (argon2-cffi); API tokens are random and stored only as their
SHA-256 digest, so a copy of the database does not hand out working tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

TOKEN_PREFIX = "hst_"  # noqa: S105 - a visible prefix, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A fresh API token to show once; store only `hash_api_token(token)`."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class LoginRateLimiter:
    """In-process sliding window of failed log-ins per (username, client address).

    Counts failures only: a clinician who types the password right is never slowed down.
    """

    def __init__(self, max_attempts: int, window_s: float) -> None:
        self.max_attempts = max_attempts
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, username: str, address: str, now: float | None = None) -> float:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = time.monotonic() if now is None else now
        key = (username.lower(), address)
        with self._lock:
            q = self._recent(key, now)
            if len(q) < self.max_attempts:
                return 0.0
            return max(0.0, self.window_s - (now - q[0]))

    def record_failure(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._recent((username.lower(), address), now).append(now)

    def reset(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), address), None)
