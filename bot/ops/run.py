"""`bousla run`: the Rasa server, the action server and the dashboard, together.

honcho (a Procfile runner) does the process management: log lines prefixed with the
process name, one Ctrl-C or SIGTERM stops all three (each runs in its own process
group, so nothing is orphaned), and when one dies the others are stopped and the exit
code is the dead one's. This module adds what a newcomer needs around it: clear
sentences for a busy port or an unreachable database, migrations and training before
start, and the addresses to open once everything answers its health check.

`bousla run --replicas N` runs N Rasa servers and N action servers (replica i on
`RASA_PORT + i` and `ACTIONS_PORT + i`) behind Debian's nginx, which listens on
`RASA_PORT` (webhooks, REST, Rasa's HTTP API) and `ACTIONS_PORT` (Rasa's calls to the
actions); its configuration is generated into `var/nginx/` (`bot.ops.scale.nginx`). Several
replicas share PostgreSQL (`DATABASE_URL`) and Redis (`REDIS_URL`, Rasa's lock store).
A replica that dies is started again while the others keep serving; the dashboard or
nginx dying still stops everything.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import queue
import shlex
import signal
import socket
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from honcho.manager import SIGNALS, Manager
from honcho.printer import Printer

from bot import PROJECT_ROOT
from bot.settings import Settings, get_settings

HEALTH_TIMEOUT_SECONDS = 300  # Rasa loads TensorFlow and the model: ~40 s here
MAX_REPLICAS = 16


@dataclass(frozen=True)
class Service:
    name: str
    label: str
    port: int
    port_variable: str
    health_path: str
    command: list[str]
    restart: bool = False  # a replica: started again when it dies
    more_health: tuple[tuple[int, str], ...] = field(default=())  # (port, path) also checked

    def health_url(self, host: str) -> str:
        return f"http://{host}:{self.port}{self.health_path}"

    def health_urls(self, host: str) -> list[str]:
        return [self.health_url(host)] + [
            f"http://{host}:{p}{path}" for p, path in self.more_health
        ]


def rasa_command(settings: Settings, model: str, port: int) -> list[str]:
    # Rasa with Bousla's changes in its process (bot/ops/rasa_server.py, rasa_tuning.py); the
    # HTTP API's secret is added there, never on the command line. With BOUSLA_TURN_TIMINGS,
    # `bousla bench turn --breakdown` times the steps of each turn there too (turn_probe.py).
    return [sys.executable, "-m", "bot.ops.rasa_server", "run", "--enable-api", "--cors", "*",
            "--interface", settings.host, "--port", str(port),
            "--model", model, "--endpoints", "endpoints.yml",
            "--credentials", "credentials.yml"]  # fmt: skip


def actions_command(port: int) -> list[str]:
    return [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions", "--port", str(port)]


def dashboard_command(settings: Settings) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "bot.dashboard.app:app", "--host", settings.host,
            "--port", str(settings.dashboard_port), "--no-access-log",
            # the dashboard reads X-Forwarded-* itself, from BOUSLA_TRUSTED_PROXIES only
            "--no-proxy-headers",
            # live updates use server-sent events (Rasa pins websockets 10); open event
            # streams must not hold a Ctrl-C back
            "--ws", "none", "--timeout-graceful-shutdown", "3"]  # fmt: skip


def replica_ports(base: int, replicas: int) -> list[int]:
    """Ports of replicas 1..N behind the port `base` that nginx listens on."""
    return [base + index for index in range(1, replicas + 1)]


def nginx_state_dir(settings: Settings) -> Path:
    return settings.var_dir / "nginx"


def nginx_config_path(settings: Settings) -> Path:
    return nginx_state_dir(settings) / "nginx.conf"


def services(settings: Settings, model: str, replicas: int | None = None) -> list[Service]:
    """What `bousla run` starts: three processes, or N replicas of two behind nginx."""
    dashboard = Service(
        "dashboard", "dashboard", settings.dashboard_port, "DASHBOARD_PORT", "/healthz",
        dashboard_command(settings),
    )  # fmt: skip
    if replicas is None:
        return [
            Service("rasa", "Rasa server", settings.rasa_port, "RASA_PORT", "/",
                    rasa_command(settings, model, settings.rasa_port)),
            Service("actions", "action server", settings.actions_port, "ACTIONS_PORT",
                    "/health", actions_command(settings.actions_port)),
            dashboard,
        ]  # fmt: skip
    from bot.ops.scale.nginx import command as nginx_command
    from bot.ops.scale.nginx import find_nginx

    rasa = [
        Service(f"rasa-{index}", f"Rasa server {index}", port, f"RASA_PORT + {index}", "/",
                rasa_command(settings, model, port), restart=True)
        for index, port in enumerate(replica_ports(settings.rasa_port, replicas), start=1)
    ]  # fmt: skip
    actions = [
        Service(f"actions-{index}", f"action server {index}", port, f"ACTIONS_PORT + {index}",
                "/health", actions_command(port), restart=True)
        for index, port in enumerate(replica_ports(settings.actions_port, replicas), start=1)
    ]  # fmt: skip
    nginx = Service(
        "nginx", "nginx (load balancer)", settings.rasa_port, "RASA_PORT", "/",
        nginx_command(find_nginx() or "nginx", nginx_config_path(settings),
                      nginx_state_dir(settings)),
        more_health=((settings.actions_port, "/health"),),
    )  # fmt: skip
    return rasa + actions + [dashboard, nginx]


def listening_ports(service: Service) -> list[int]:
    return [service.port] + [port for port, _ in service.more_health]


def replica_problem(settings: Settings, replicas: int) -> str | None:
    """One sentence saying why `--replicas N` cannot run with these settings, or None."""
    from bot.ops.scale.nginx import find_nginx

    if not 1 <= replicas <= MAX_REPLICAS:
        return f"--replicas must be between 1 and {MAX_REPLICAS} (got {replicas})."
    database = settings.database_url or ""
    if replicas > 1 and not database.startswith("postgresql"):
        return (
            f"{replicas} replicas must share one PostgreSQL database: set "
            "DATABASE_URL=postgresql://user:password@host:5432/bousla (the SQLite file "
            "cannot be shared)."
        )
    if replicas > 1 and not settings.redis_url:
        return (
            f"{replicas} replicas need Redis for Rasa's conversation locks: set "
            "REDIS_URL=redis://host:6379/0, so that two replicas never answer one person "
            "at the same time."
        )
    if find_nginx() is None:
        return (
            "--replicas runs nginx in front of the replicas, and nginx is not installed: "
            "apt-get install -y nginx (Debian's package; nothing system-wide is configured)."
        )
    planned = services(settings, model="", replicas=replicas)
    seen: dict[int, str] = {}
    for service in planned:
        for port in listening_ports(service):
            if port in seen:
                return (
                    f"Port {port} would serve both {seen[port]} and {service.label}: replica "
                    f"i listens on RASA_PORT + i and ACTIONS_PORT + i; set RASA_PORT, "
                    "ACTIONS_PORT and DASHBOARD_PORT further apart."
                )
            seen[port] = service.label
    return None


def port_in_use(host: str, port: int) -> bool:
    """True if something listens on the port (on `host` or on all interfaces)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind (Sanic, uvicorn, nginx): connections of a Bousla just stopped,
        # still in TIME_WAIT, do not make the port busy; a listening socket still does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def busy_port_message(
    service: Service, host: str, port: int | None = None, variable: str | None = None
) -> str:
    port = port or service.port
    variable = variable or service.port_variable.split()[0]
    hint = " (replica i listens on it + i)" if service.restart else ""
    return (
        f"Port {port} ({service.label}) is already in use on {host}: another "
        f"Bousla may still be running (stop it first), or set {variable}{hint} to a free port."
    )


def busy_port_messages(settings: Settings, planned: list[Service]) -> list[str]:
    return [
        busy_port_message(
            service,
            settings.host,
            port,
            "ACTIONS_PORT" if port != service.port and port == settings.actions_port else None,
        )
        for service in planned
        for port in listening_ports(service)
        if port_in_use(settings.host, port)
    ]


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
        pending = [
            s for s in pending if not all(is_healthy(u) for u in s.health_urls(settings.host))
        ]
        time.sleep(1)
    if pending:
        names = ", ".join(s.label for s in pending)
        print(f"Bousla: {names} did not become healthy in {timeout:.0f} s; stopping.", flush=True)
        manager.returncode = 1
        manager.terminate()
        return
    print(ready_banner(settings, to_check), flush=True)


def ready_banner(settings: Settings, started: list[Service]) -> str:
    dashboard = f"http://{settings.host}:{settings.dashboard_port}"
    rasa = f"http://{settings.host}:{settings.rasa_port}/"
    actions = f"http://{settings.host}:{settings.actions_port}/health"
    replicas = [s for s in started if s.restart]
    title = "Bousla is ready."
    if replicas:
        count = len(replicas) // 2
        rasa += (
            "  (nginx → "
            + ", ".join(f"{s.name} :{s.port}" for s in replicas if s.name.startswith("rasa"))
            + ")"
        )
        actions += (
            "  (nginx → "
            + ", ".join(f"{s.name} :{s.port}" for s in replicas if s.name.startswith("actions"))
            + ")"
        )
        title = f"Bousla is ready: {count} replica{'s' if count > 1 else ''} behind nginx."
    return (
        "\n"
        f"  {title}\n"
        f"    Web chat:        {dashboard}/chat\n"
        f"    Dashboard:       {dashboard}/\n"
        f"    Rasa server:     {rasa}\n"
        f"    Action server:   {actions}\n"
        "  Press Ctrl-C once to stop everything.\n"
    )


class SupervisingManager(Manager):
    """honcho's Manager, except that processes named in `restartable` (the replicas) are
    started again when they die, while the others keep serving. Any other process dying,
    Ctrl-C or SIGTERM still stops everything. A replica that dies more than
    `MAX_RESTARTS` times in `RESTART_WINDOW` seconds stops everything too."""

    RESTART_DELAY = 2.0
    MAX_RESTARTS = 5
    RESTART_WINDOW = 300.0

    def __init__(self, printer: Printer, restartable: set[str]) -> None:
        super().__init__(printer)
        self.restartable = restartable
        self.restarts: dict[str, list[float]] = {name: [] for name in restartable}

    def _restart_allowed(self, name: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self.restarts.get(name, []) if now - t < self.RESTART_WINDOW]
        self.restarts[name] = recent
        return name in self.restartable and len(recent) < self.MAX_RESTARTS

    def _schedule_restart(self, name: str, returncode: int | None) -> None:
        self.restarts[name].append(time.monotonic())
        entry = self._processes[name]
        entry["restart_at"] = time.monotonic() + self.RESTART_DELAY
        entry["last_returncode"] = returncode
        self._system_print(
            f"{name} stopped (rc={returncode}); starting it again in "
            f"{self.RESTART_DELAY:.0f} s (the other replicas keep serving)\n"
        )

    def _start_due(self) -> None:
        now = time.monotonic()
        for name, entry in self._processes.items():
            if entry.get("restart_at") is not None and now >= entry["restart_at"]:
                entry.pop("restart_at")
                entry["process"] = multiprocessing.Process(
                    name=name, target=entry["obj"].run, args=(self.events, True)
                )
                entry["process"].start()

    def _killall(self, force: bool = False) -> None:
        # A replica waiting to be started again counts as stopped.
        for entry in self._processes.values():
            if entry.pop("restart_at", None) is not None:
                entry["returncode"] = entry.get("last_returncode")
        super()._killall(force=force)

    def loop(self) -> None:
        """honcho's loop, with restarts (same messages, same exit rules)."""

        def _terminate(signum, frame) -> None:
            self._system_print(f"{SIGNALS[signum]['name']} received\n")
            self.returncode = SIGNALS[signum]["rc"]
            self.terminate()

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        self._start()
        exit_now = False
        exit_start = None
        while True:
            try:
                msg = self.events.get(timeout=0.1)
            except queue.Empty:
                if exit_now:
                    break
            else:
                if msg.type == "line":
                    self._printer.write(msg)
                elif msg.type == "start":
                    self._processes[msg.name]["pid"] = msg.data["pid"]
                    self._system_print(f"{msg.name} started (pid={msg.data['pid']})\n")
                elif msg.type == "stop":
                    code = msg.data["returncode"]
                    if not self._terminating and self._restart_allowed(msg.name):
                        self._schedule_restart(msg.name, code)
                    else:
                        self._processes[msg.name]["returncode"] = code
                        self._system_print(f"{msg.name} stopped (rc={code})\n")
                        if self.returncode is None:
                            self.returncode = code
            if not self._terminating:
                self._start_due()
            if self._all_started() and self._all_stopped():
                exit_now = True
            if exit_start is None and self._all_started() and self._any_stopped():
                exit_start = self._clock.now()
                self.terminate()
            if exit_start is not None:
                waiting = self._clock.now() - exit_start
                if waiting > datetime.timedelta(seconds=5):
                    self.kill()


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_SERVER_URL", settings.actions_base_url)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


def prepare(settings: Settings, train_if_stale: bool, model: str | None = None) -> str:
    """Migrate the database and make sure a current model exists; returns the model path
    (`model` when given: a model trained elsewhere, used as it is).

    Raises SystemExit with one clear sentence when something is in the way.
    """
    from bot.ops.training import model_path, train
    from bot.storage.db import DatabaseUnavailable, upgrade_database
    from bot.storage.redis_url import RedisUnavailable, check_redis

    if settings.redis_url:
        try:
            check_redis(settings.redis_url)
        except (RedisUnavailable, ValueError) as error:
            raise SystemExit(f"Bousla: {error}") from None
    try:
        upgrade_database()
    except DatabaseUnavailable as error:
        raise SystemExit(f"Bousla: {error}") from None
    if model is not None:
        if not Path(model).is_file():
            raise SystemExit(f"Bousla: no model file at {model}.")
        return str(Path(model).resolve())
    if train_if_stale:
        return str(train(quiet=True))
    found = model_path()
    if not found.exists():
        raise SystemExit("Bousla: no trained model for the current data; run `make train`.")
    return str(found)


def prepare_nginx(settings: Settings, replicas: int) -> None:
    """Write var/nginx/nginx.conf for these replicas and have nginx check it."""
    from bot.ops.scale.nginx import check_config, find_nginx, local_config

    state_dir = nginx_state_dir(settings)
    config = local_config(
        host=settings.host,
        rasa_port=settings.rasa_port,
        actions_port=settings.actions_port,
        rasa_ports=replica_ports(settings.rasa_port, replicas),
        action_ports=replica_ports(settings.actions_port, replicas),
        state_dir=state_dir,
    )
    path = config.write(nginx_config_path(settings))
    problem = check_config(find_nginx() or "nginx", path, state_dir)
    if problem:
        raise SystemExit(f"Bousla: nginx refuses {path}: {problem}")


def run(
    train_if_stale: bool = True, replicas: int | None = None, model_file: str | None = None
) -> int:
    settings = get_settings()
    if replicas is not None:
        problem = replica_problem(settings, replicas)
        if problem:
            print(f"Bousla: {problem}", file=sys.stderr)
            return 2
    planned = services(settings, model="", replicas=replicas)
    busy = busy_port_messages(settings, planned)
    if busy:
        for message in busy:
            print(f"Bousla: {message}", file=sys.stderr)
        return 2
    model = prepare(settings, train_if_stale, model_file)
    if replicas is not None:
        prepare_nginx(settings, replicas)
    to_start = services(settings, model=model, replicas=replicas)
    manager = SupervisingManager(Printer(sys.stdout), {s.name for s in to_start if s.restart})
    env = child_environment(settings)
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
    parser.add_argument(
        "--replicas",
        type=int,
        metavar="N",
        help="N Rasa servers and N action servers behind nginx (needs PostgreSQL and Redis "
        "when N > 1)",
    )
    parser.add_argument(
        "--model", metavar="FILE", help="this trained model instead of the current data's"
    )
    parser.set_defaults(
        handler=lambda args: run(
            train_if_stale=not args.no_train, replicas=args.replicas, model_file=args.model
        )
    )
