"""The embedded PostgreSQL the store tests share: one cluster for the session (initdb costs seconds on 2 cores), one
server start per module; a test that stops it to prove a restart or Ctrl-C leaves it to ``postgres`` to start again."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_home(tmp_path_factory) -> Path:
    """A cache folder whose ``postgres/`` holds the shared cluster (what ``--store local`` opens under it)."""
    return tmp_path_factory.mktemp("pg_home")


@pytest.fixture(scope="module")
def pg_server(pg_home):
    """The shared server, started for the module and stopped after it."""
    from harness.stores.local_postgres import LocalPostgres

    server = LocalPostgres(pg_home / "postgres")
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def postgres(pg_server):
    """The module's server, running: started again if an earlier test stopped it."""
    if pg_server._running_port() is None:
        pg_server.start()
    return pg_server
