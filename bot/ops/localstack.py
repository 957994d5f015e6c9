"""Start the real Bousla stack (`bousla run`) on free ports, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot import PROJECT_ROOT


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_block(count: int, attempts: int = 200) -> int:
    """A port p such that p, p + 1, ..., p + count - 1 are all free (replicas' layout)."""
    import random
    import socket

    for _ in range(attempts):
        base = random.randint(20000, 32000 - count)  # below Linux's ephemeral ports
        probes = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError(f"no block of {count} free ports found")


def processes_with_marker(marker: str) -> list[int]:
    """PIDs of live processes whose environment carries `marker` (ours and our children's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"BOUSLA_TEST_MARKER={marker}".encode() in environ and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


def local_secret_key() -> str:
    """The secret key of local stacks (tests, benchmarks): they set provider secrets for the
    fake APIs, so the development key is refused (bot.settings); one random key per run,
    shared with this process so that pseudonyms and tokens computed here match."""
    if not os.environ.get("BOUSLA_SECRET_KEY"):
        from bot.settings import get_settings

        os.environ["BOUSLA_SECRET_KEY"] = "bousla-local-" + secrets.token_hex(16)
        get_settings.cache_clear()
    return os.environ["BOUSLA_SECRET_KEY"]


@dataclass
class Stack:
    var_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    dashboard_port: int = field(default_factory=free_port)
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen | None = None
    # `bousla run --replicas N`: nginx on rasa_port/actions_port, replica i on port + i.
    replicas: int | None = None
    # A model file to run (`bousla run --model`), instead of the current data's.
    model: Path | None = None
    # The environment to start from: this process's when None. Tests that start a stack in
    # a background thread pass a copy taken before other tests could change os.environ.
    environ: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.replicas is not None:
            size = self.replicas + 1
            self.rasa_port = free_port_block(size)
            self.actions_port = free_port_block(size)
            while abs(self.actions_port - self.rasa_port) < size:
                self.actions_port = free_port_block(size)

    def replica_port(self, service: str, index: int) -> int:
        """Port of replica `index` (1..N) of "rasa" or "actions"."""
        return (self.rasa_port if service == "rasa" else self.actions_port) + index

    @property
    def log_path(self) -> Path:
        return self.var_dir / "stack.log"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        source = os.environ if self.environ is None else self.environ
        env = {
            k: v
            for k, v in source.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "ACTION_SERVER_URL"}
        }
        env.update(
            RASA_PORT=str(self.rasa_port),
            ACTIONS_PORT=str(self.actions_port),
            DASHBOARD_PORT=str(self.dashboard_port),
            BOUSLA_VAR_DIR=str(self.var_dir),
            BOUSLA_TEST_MARKER=self.marker,
            RASA_TELEMETRY_ENABLED="false",
            BOUSLA_SECRET_KEY=source.get("BOUSLA_SECRET_KEY") or local_secret_key(),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 300) -> Stack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        options = ["--replicas", str(self.replicas)] if self.replicas is not None else []
        if self.model is not None:
            options += ["--model", str(self.model)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--no-train", *options],
            cwd=PROJECT_ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Bousla is ready" in self.log():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"bousla run exited early:\n{self.log()[-4000:]}")
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"bousla run not ready in {timeout} s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def say(self, sender: str, message: str) -> list[dict]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def interrupt(self, timeout: float = 40) -> int:
        """Ctrl-C, as in a terminal; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop whatever is left (used on test failure); never leaves a process behind."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        for pid in processes_with_marker(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


SERVICE_MARKERS = {
    "rasa": b"bot.ops.rasa_server\x00run",
    "actions": b"rasa_sdk",
    "dashboard": b"uvicorn",
}


def resident_memory_mb(marker: str) -> dict[str, float]:
    """Resident memory (MB) of each Bousla process started with `marker`."""
    memory: dict[str, float] = {}
    for pid in processes_with_marker(marker):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for name, needle in SERVICE_MARKERS.items():
            if needle in cmdline and b"bot.cli" not in cmdline:
                rss_kb = next(
                    int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
                )
                memory[name] = memory.get(name, 0.0) + rss_kb / 1024
    return {name: round(mb, 1) for name, mb in sorted(memory.items())}
