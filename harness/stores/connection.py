"""Where a PostgreSQL server is and how to log in, with the password kept out of every message and card."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from corpus.errors import RagtuneError

# looked up in this order when the URL carries no password (PGPASSWORD is libpq's own name for it)
PASSWORD_ENV = ("RAGTUNE_PG_PASSWORD", "PGPASSWORD")


@dataclass(frozen=True)
class PgTarget:
    """A connection URL without its password, and the password beside it (``repr`` hides it)."""

    url: str
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, password_env: str | None = None) -> PgTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise RagtuneError("a store URL looks like postgresql://user@host:port/database")
        password = parts.password
        if password is None:
            names = (password_env,) if password_env else PASSWORD_ENV
            password = next((os.environ[n] for n in names if os.environ.get(n)), None)
        netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        return cls(urlunsplit(("postgresql", netloc, parts.path, parts.query, "")), password)

    def redacted(self) -> str:
        return self.url  # the password never enters ``url``; kept as a method so callers need not know that

    def connect(self, autocommit: bool = False):
        """A psycopg connection; a refused login or an unreachable host is the user's to fix."""
        import psycopg

        try:
            conn = psycopg.connect(self.url, password=self.password, autocommit=autocommit, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise RagtuneError(f"cannot connect to {self.redacted()}: {_first_line(exc, self.password)}") from None
        return conn


def _first_line(exc: Exception, secret: str | None) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # servers do not echo passwords, but a libpq message quoting the conninfo could: never print one
    return text.replace(secret, "***") if secret else text
