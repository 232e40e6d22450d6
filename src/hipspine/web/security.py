"""Passwords, API tokens, session ids, CSRF tokens, the client's address and the log-in rate
limiter.

Passwords use argon2id (argon2-cffi); API tokens and session ids are random and stored only as
their SHA-256 digest, so a copy of the database does not hand out working credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hipspine.errors import InputError

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


def new_session_id() -> str:
    """A fresh session id for the cookie; store only `hash_session_id(id)`."""
    return secrets.token_urlsafe(32)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _csrf_signature(secret: str, value: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), b"anonymous-csrf:" + value.encode("utf-8"),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def sign_anonymous_csrf(secret: str, value: str) -> str:
    """The pre-session cookie: the visitor's CSRF value and this server's signature of it."""
    return f"{value}.{_csrf_signature(secret, value)}"


def read_anonymous_csrf(secret: str, cookie: str | None) -> str | None:
    """The CSRF value of a pre-session cookie this server signed; None otherwise."""
    if not cookie or cookie.count(".") != 1:
        return None
    value, signature = cookie.split(".")
    if not value or not hmac.compare_digest(signature, _csrf_signature(secret, value)):
        return None
    return value


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))



# ----------------------------------------------------------------------------- client address

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """`HIPSPINE_TRUSTED_PROXIES`: comma-separated addresses or CIDR networks."""
    networks = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise InputError.single("HIPSPINE_TRUSTED_PROXIES", entry,
                                    "IP addresses or CIDR networks (10.0.0.0/8), comma-separated",
                                    what="configuration") from None
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:       # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:                     # 192.0.2.1:443
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(peer: str | None, forwarded_for: Iterable[str],
                   trusted: tuple[Network, ...]) -> str:
    """The client's address: the connecting peer, unless the peer is a trusted proxy; then
    X-Forwarded-For is read from the right (each proxy appends the address it saw), skipping
    trusted proxies, and the first address not among them is the client. A header that is
    not an address ends the walk (the last address known stands). Without trusted proxies
    the header is ignored entirely: anyone can send one."""
    if not peer:
        return "unknown"
    current = _ip(peer)
    if current is None:
        return peer
    if not trusted:
        return str(current)
    hops = [h for line in forwarded_for for h in line.split(",") if h.strip()]
    while any(current in net for net in trusted) and hops:
        previous = _ip(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


# ----------------------------------------------------------------------------- log-in limits

class LoginRateLimiter:
    """In-process sliding windows of failed log-ins, counted three ways:

    * per (user name, client address): `max_attempts`;
    * per user name, from every address together: `max_per_user` (guessing one account's
      password from many addresses);
    * per client address, for every user name together: `max_per_address` (spraying many
      user names from one address).

    A log-in is refused while any of the three is full, before the password is checked.
    Counts failures only: a clinician who types the password right is never slowed down.
    Keys whose failures have all aged out are dropped, so a spray of made-up names does not
    grow memory without bound.
    """

    PRUNE_EVERY = 1024   # failures recorded between sweeps of aged-out keys

    def __init__(self, max_attempts: int, window_s: float, max_per_user: int | None = None,
                 max_per_address: int | None = None) -> None:
        self.max_attempts = max_attempts
        self.window_s = window_s
        self.max_per_user = max_per_user if max_per_user is not None else 2 * max_attempts
        self.max_per_address = (max_per_address if max_per_address is not None
                                else 4 * max_attempts)
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._recorded = 0

    def _keys(self, username: str, address: str) -> tuple[tuple[tuple[str, str], int], ...]:
        name = username.strip().lower()
        return ((("pair", f"{name}\x00{address}"), self.max_attempts),
                (("user", name), self.max_per_user),
                (("address", address), self.max_per_address))

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, username: str, address: str, now: float | None = None) -> float:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key, limit in self._keys(username, address):
                q = self._recent(key, now)
                if q is not None and len(q) >= limit:
                    wait = max(wait, self.window_s - (now - q[-limit]))
        return max(0.0, wait)

    def record_failure(self, username: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key, _limit in self._keys(username, address):
                q = self._recent(key, now)
                if q is None:
                    q = self._failures[key] = deque()
                q.append(now)
            self._recorded += 1
            if self._recorded % self.PRUNE_EVERY == 0:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for key in [k for k, q in self._failures.items() if not q or now - q[-1] > self.window_s]:
            del self._failures[key]

    def reset(self, username: str, address: str) -> None:
        """A successful log-in clears its (user name, address) count; the per-user and
        per-address windows age out by themselves."""
        with self._lock:
            self._failures.pop(self._keys(username, address)[0][0], None)
