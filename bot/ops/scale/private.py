"""Throw-away PostgreSQL and Redis servers on free ports, owned by whoever starts them.

The load benchmark and the fault tests stop, restart and break these servers on purpose;
they never touch the machine's shared PostgreSQL or Redis. The PostgreSQL cluster is made
with Debian's `initdb`/`pg_ctl` (`/usr/lib/postgresql/<version>/bin`) in a temporary
directory, run as the `postgres` user when we are root (initdb refuses root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.ops.localstack import free_port

POSTGRES_BIN_ROOT = Path("/usr/lib/postgresql")


class ServiceError(RuntimeError):
    """A private server could not be started; the message says why."""


def postgres_bin_dir() -> Path:
    """The newest `/usr/lib/postgresql/<version>/bin` that has initdb and pg_ctl."""
    candidates = [
        path
        for path in POSTGRES_BIN_ROOT.glob("*/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    if not candidates:
        raise ServiceError(
            f"No PostgreSQL server binaries under {POSTGRES_BIN_ROOT} "
            "(apt-get install -y postgresql)."
        )
    return max(candidates, key=lambda path: int(path.parent.name.split(".")[0]))


class PrivatePostgres:
    """A PostgreSQL cluster of our own: `start()`, `stop()`, `start()` again, `close()`.

    `fsync` is off by default (tests and benchmarks never crash the machine; a stopped or
    restarted server still shuts down cleanly); pass `fsync=True` for durable commits.
    """

    def __init__(self, *, port: int | None = None, fsync: bool = False) -> None:
        self.port = port or free_port()
        self.fsync = fsync
        self.directory = Path(tempfile.mkdtemp(prefix="bousla-pg-"))
        self.data_dir = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise ServiceError("Running as root needs a `postgres` user for initdb.") from None
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._initialised = False

    def postmaster_pid(self) -> int:
        """The server's main process (pg_ctl leaves it running on its own)."""
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    @property
    def url(self) -> str:
        return self.database_url("bousla")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command: str | Path, timeout: float = 90) -> None:
        result = subprocess.run(
            [*self._as_postgres, *map(str, command)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise ServiceError(
                f"{Path(str(command[0])).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )

    def start(self) -> PrivatePostgres:
        binaries = postgres_bin_dir()
        if not self._initialised:
            self._run(binaries / "initdb", "-D", self.data_dir, "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip
            self._initialised = True
            created = True
        else:
            created = False
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            f"-c max_connections=300 -c fsync={'on' if self.fsync else 'off'} "
            "-c full_page_writes=off"
        )
        self._run(binaries / "pg_ctl", "-D", self.data_dir, "-l", self.log_path, "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip
        if created:
            self.create_database("bousla")
        return self

    def create_database(self, name: str) -> str:
        """A new, empty database in this cluster; returns its URL."""
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.database_url(name)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast`: clients are disconnected, a clean shutdown)."""
        if self.data_dir.exists() and (self.data_dir / "postmaster.pid").exists():
            self._run(postgres_bin_dir() / "pg_ctl", "-D", self.data_dir, "-m", mode, "-w",
                      "-t", "60", "stop")  # fmt: skip

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.close()


class PrivateRedis:
    """A redis-server of our own, without persistence; `stop()` and `start()` at will."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="bousla-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20) -> PrivateRedis:
        executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(executable).exists():
            raise ServiceError("redis-server is not installed (apt-get install -y redis-server).")
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), "--daemonize", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return self
            if self.process.poll() is not None:
                raise ServiceError(
                    f"redis-server exited ({self.process.returncode}): "
                    + (self.directory / "redis.log").read_text(errors="replace")[-1000:]
                )
            time.sleep(0.05)
        raise ServiceError(f"redis-server did not answer on port {self.port} in {timeout} s")

    def ping(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.close()
