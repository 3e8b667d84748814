"""Who may act in the control room: the admin key, sessions and their CSRF tokens.

The UI is read-only unless it was started with an admin key (`CHAMPION_ADMIN_KEY`, or the
variable `champion ui --admin-key-env` names). A person signs in once with a name and the key;
the session lives in this process's memory (a restart signs everyone out) behind a cookie
that is HttpOnly, SameSite=Strict, and Secure when the UI is served over TLS. Every form
carries the session's CSRF token, and every POST must return it; visitors who have not signed
in get a session too, so the sign-in form itself is protected.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

COOKIE = "champion_session"
SESSION_SECONDS = 12 * 3600
"""A signed-in session ends this long after it began (sign in again)."""
FAILURES_ALLOWED = 5
FAILURE_WINDOW_SECONDS = 60.0
"""More than FAILURES_ALLOWED wrong keys within this window: sign-in waits (429)."""
MAX_SESSIONS = 10_000
"""Anonymous sessions are cheap to ask for; the oldest are forgotten past this many."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")


@dataclass
class Session:
    """One browser's session: its CSRF token and, once signed in, the person's name."""

    id: str
    csrf: str
    created: float
    name: str | None = None

    @property
    def actor(self) -> str | None:
        """How history names this person's actions: `ui:<name>`."""
        return f"ui:{self.name}" if self.name else None


class SignInRefused(Exception):
    """A sign-in that did not succeed; the message says why (shown to the person)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Sessions:
    """The sessions of one `champion ui` process."""

    def __init__(self, admin_key: str | None) -> None:
        self._key = admin_key or None
        self._sessions: dict[str, Session] = {}
        self._failures: deque[float] = deque()
        self._lock = threading.Lock()

    @property
    def read_only(self) -> bool:
        """No admin key was given: nobody can act, there is nothing to sign in to."""
        return self._key is None

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session and session.name and time.time() - session.created > SESSION_SECONDS:
                del self._sessions[session_id]
                return None
            return session

    def anonymous(self) -> Session:
        """A new session that has not signed in (it holds a CSRF token for the sign-in form)."""
        return self._add(None)

    def sign_in(self, name: str, key: str) -> Session:
        """A new signed-in session (a fresh id: the anonymous one is not promoted), or
        `SignInRefused`."""
        if self._key is None:
            raise SignInRefused("this control room is read-only: it was started without an admin key", 403)
        name = name.strip()
        if not _NAME.match(name):
            raise SignInRefused("name: use 1-64 letters, digits, spaces or . _ @ - (it is written in the "
                                "history of every action)", 400)
        now = time.monotonic()
        with self._lock:
            while self._failures and now - self._failures[0] > FAILURE_WINDOW_SECONDS:
                self._failures.popleft()
            if len(self._failures) >= FAILURES_ALLOWED:
                raise SignInRefused("too many wrong keys in the last minute: wait a minute and try again", 429)
            if not hmac.compare_digest(key.encode(), self._key.encode()):
                self._failures.append(now)
                raise SignInRefused("wrong admin key", 401)
        return self._add(name)

    def sign_out(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        return bool(session and token and hmac.compare_digest(session.csrf.encode(), token.encode()))

    def _add(self, name: str | None) -> Session:
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time(), name)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: (s.name is not None, s.created))
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session


def cookie_header(session: Session, secure: bool) -> str:
    """The Set-Cookie value of `session`."""
    attributes = ["Path=/", "HttpOnly", "SameSite=Strict"]
    if session.name:
        attributes.append(f"Max-Age={SESSION_SECONDS}")
    if secure:
        attributes.append("Secure")
    return "; ".join([f"{COOKIE}={session.id}", *attributes])
