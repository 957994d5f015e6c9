"""`bousla run`: the Rasa server, the action server and the dashboard, together.

honcho (a Procfile runner) does the process management: log lines prefixed with the
process name, one Ctrl-C or SIGTERM stops all three (each runs in its own process
group, so nothing is orphaned), and when one dies the others are stopped and the exit
code is the dead one's. This module adds what a newcomer needs around it: clear
sentences for a busy port or an unreachable database, migrations and training before
start, and the addresses to open once everything answers its health check.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass

from honcho.manager import Manager
from honcho.printer import Printer

from bot import PROJECT_ROOT
from bot.settings import Settings, get_settings

HEALTH_TIMEOUT_SECONDS = 300  # Rasa loads TensorFlow and the model: ~40 s here


@dataclass(frozen=True)
class Service:
    name: str
    label: str
    port: int
    port_variable: str
    health_path: str
    command: list[str]

    def health_url(self, host: str) -> str:
        return f"http://{host}:{self.port}{self.health_path}"


def services(settings: Settings, model: str) -> list[Service]:
    python = sys.executable
    return [
        Service(
            "rasa", "Rasa server", settings.rasa_port, "RASA_PORT", "/",
            [python, "-m", "rasa", "run", "--enable-api", "--cors", "*",
             "--auth-token", settings.rasa_api_token,
             "--interface", settings.host, "--port", str(settings.rasa_port),
             "--model", model, "--endpoints", "endpoints.yml",
             "--credentials", "credentials.yml"],
        ),
        Service(
            "actions", "action server", settings.actions_port, "ACTIONS_PORT", "/health",
            [python, "-m", "rasa_sdk", "--actions", "bot.actions",
             "--port", str(settings.actions_port)],
        ),
        Service(
            "dashboard", "dashboard", settings.dashboard_port, "DASHBOARD_PORT", "/healthz",
            [python, "-m", "uvicorn", "bot.dashboard.app:app", "--host", settings.host,
             "--port", str(settings.dashboard_port), "--no-access-log",
             # live updates use server-sent events (Rasa pins websockets 10); open event
             # streams must not hold a Ctrl-C back
             "--ws", "none", "--timeout-graceful-shutdown", "3"],
        ),
    ]  # fmt: skip


def port_in_use(host: str, port: int) -> bool:
    """True if something listens on the port (on `host` or on all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def busy_port_message(service: Service, host: str) -> str:
    return (
        f"Port {service.port} ({service.label}) is already in use on {host}: another "
        f"Bousla may still be running (stop it first), or set {service.port_variable} "
        "to a free port."
    )


def is_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until_healthy(
    manager: Manager, settings: Settings, to_check: list[Service], timeout: float
) -> None:
    """Print the addresses once every service answers; stop everything on timeout."""
    deadline = time.monotonic() + timeout
    pending = list(to_check)
    while pending and time.monotonic() < deadline:
        if manager._terminating:  # noqa: SLF001 - a process died or Ctrl-C: stop waiting
            return
        pending = [s for s in pending if not is_healthy(s.health_url(settings.host))]
        time.sleep(1)
    if pending:
        names = ", ".join(s.label for s in pending)
        print(f"Bousla: {names} did not become healthy in {timeout:.0f} s; stopping.", flush=True)
        manager.returncode = 1
        manager.terminate()
        return
    dashboard = f"http://{settings.host}:{settings.dashboard_port}"
    print(
        "\n"
        "  Bousla is ready.\n"
        f"    Web chat:        {dashboard}/chat\n"
        f"    Dashboard:       {dashboard}/\n"
        f"    Rasa server:     http://{settings.host}:{settings.rasa_port}/\n"
        f"    Action server:   http://{settings.host}:{settings.actions_port}/health\n"
        "  Press Ctrl-C once to stop everything.\n",
        flush=True,
    )


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_SERVER_URL", settings.actions_base_url)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def prepare(settings: Settings, train_if_stale: bool) -> str:
    """Migrate the database and make sure a current model exists; returns the model path.

    Raises SystemExit with one clear sentence when something is in the way.
    """
    from bot.storage.db import DatabaseUnavailable, upgrade_database
    from bot.training import model_path, train

    try:
        upgrade_database()
    except DatabaseUnavailable as error:
        raise SystemExit(f"Bousla: {error}") from None
    if train_if_stale:
        return str(train(quiet=True))
    model = model_path()
    if not model.exists():
        raise SystemExit("Bousla: no trained model for the current data; run `make train`.")
    return str(model)


def run(train_if_stale: bool = True) -> int:
    settings = get_settings()
    planned = services(settings, model="")
    busy = [s for s in planned if port_in_use(settings.host, s.port)]
    if busy:
        for service in busy:
            print(f"Bousla: {busy_port_message(service, settings.host)}", file=sys.stderr)
        return 2
    model = prepare(settings, train_if_stale)
    manager = Manager(Printer(sys.stdout))
    env = child_environment(settings)
    to_start = services(settings, model=model)
    for service in to_start:
        manager.add_process(service.name, shlex.join(service.command), env=env, cwd=PROJECT_ROOT)
    watcher = threading.Thread(
        target=wait_until_healthy,
        args=(manager, settings, to_start, HEALTH_TIMEOUT_SECONDS),
        daemon=True,
    )
    watcher.start()
    manager.loop()
    stopped = {
        name: info.get("returncode")
        for name, info in manager._processes.items()  # noqa: SLF001
    }
    print(f"Bousla stopped ({', '.join(f'{n}: rc={rc}' for n, rc in stopped.items())}).")
    return manager.returncode or 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="start the Rasa server, the action server and the dashboard"
    )
    parser.add_argument(
        "--no-train", action="store_true", help="do not train, even if the model is stale"
    )
    parser.set_defaults(handler=lambda args: run(train_if_stale=not args.no_train))
