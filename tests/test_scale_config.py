"""`bousla run --replicas N` without starting Rasa: the nginx configuration (checked by the
real nginx), the process layout, the clear refusals, replica restarts, and the deployment
files for real hosts (checked by systemd-analyze, and kept equal to what the generator
writes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from bot import PROJECT_ROOT
from bot.ops.localstack import free_port, free_port_block
from bot.ops.run import replica_problem, services
from bot.ops.scale.cli import write_example
from bot.ops.scale.nginx import (
    NginxConfig,
    PublicServer,
    check_config,
    find_nginx,
    local_config,
)
from bot.ops.scale.systemd import HostLayout, units
from bot.settings import Settings
from tests.system_deps import require_system

needs_nginx = require_system("nginx")


def run_bousla(*args: str, env: dict[str, str], timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env={k: v for k, v in {**os.environ, **env}.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def settings_for(**values) -> Settings:
    return Settings(**values)


# ---------------------------------------------------------------- layout and refusals


@needs_nginx
def test_replicas_listen_next_to_the_ports_nginx_takes():
    settings = settings_for(
        rasa_port=6005, actions_port=6055, dashboard_port=6080,
        database_url="postgresql://u@db/bousla", redis_url="redis://r:6379/0",
    )  # fmt: skip
    planned = {s.name: s for s in services(settings, model="m.tar.gz", replicas=3)}
    assert sorted(planned) == sorted(
        ["rasa-1", "rasa-2", "rasa-3", "actions-1", "actions-2", "actions-3", "dashboard", "nginx"]
    )
    assert [planned[f"rasa-{i}"].port for i in (1, 2, 3)] == [6006, 6007, 6008]
    assert [planned[f"actions-{i}"].port for i in (1, 2, 3)] == [6056, 6057, 6058]
    assert "--port" in planned["rasa-2"].command and "6007" in planned["rasa-2"].command
    assert planned["rasa-2"].restart and planned["actions-3"].restart
    assert not planned["nginx"].restart and not planned["dashboard"].restart
    # nginx answers for the webhooks and for the actions; both are health-checked.
    assert planned["nginx"].health_urls("127.0.0.1") == [
        "http://127.0.0.1:6005/",
        "http://127.0.0.1:6055/health",
    ]
    assert replica_problem(settings, 3) is None


@pytest.mark.parametrize(
    ("values", "replicas", "expected"),
    [
        ({}, 2, "must share one PostgreSQL database: set DATABASE_URL=postgresql://"),
        ({"database_url": "postgresql://u@db/b"}, 2, "need Redis for Rasa's conversation locks"),
        ({}, 0, "--replicas must be between 1 and 16"),
        ({}, 17, "--replicas must be between 1 and 16"),
        (
            {"database_url": "postgresql://u@db/b", "redis_url": "redis://r/0",
             "rasa_port": 7000, "actions_port": 7002},
            2,
            "Port 7002 would serve both Rasa server 2 and",
        ),
    ],
)  # fmt: skip
@needs_nginx
def test_what_cannot_run_is_said_in_one_sentence(values, replicas, expected):
    problem = replica_problem(settings_for(**values), replicas)
    assert problem is not None and expected in problem


@needs_nginx
def test_one_replica_runs_on_sqlite():
    assert replica_problem(settings_for(), 1) is None


def test_bousla_run_refuses_two_replicas_on_sqlite(tmp_path):
    result = run_bousla(
        "run", "--no-train", "--replicas", "2",
        env={"BOUSLA_VAR_DIR": str(tmp_path), "DATABASE_URL": None, "REDIS_URL": None},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("Bousla: 2 replicas must share one PostgreSQL database")
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "nginx").exists()  # nothing was started or written


@needs_nginx
def test_bousla_run_names_an_unreachable_redis(tmp_path):
    base = free_port_block(3)
    actions = free_port_block(3)
    result = run_bousla(
        "run", "--no-train", "--replicas", "2",
        env={
            "BOUSLA_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://bousla@127.0.0.1:1/bousla",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "RASA_PORT": str(base), "ACTIONS_PORT": str(actions),
            "DASHBOARD_PORT": str(free_port()),
        },
    )  # fmt: skip
    output = result.stderr.strip()
    assert result.returncode == 1, output
    assert output.startswith("Bousla: Cannot reach Redis at redis://127.0.0.1:")
    assert "REDIS_URL" in output
    assert len(output.splitlines()) == 1 and "Traceback" not in output


@needs_nginx
def test_a_busy_replica_port_is_named(tmp_path):
    import socket

    base = free_port_block(2)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 1))
        squatter.listen()
        result = run_bousla(
            "run", "--no-train", "--replicas", "1",
            env={"BOUSLA_VAR_DIR": str(tmp_path), "RASA_PORT": str(base),
                 "ACTIONS_PORT": str(free_port_block(2)), "DASHBOARD_PORT": str(free_port()),
                 "DATABASE_URL": None, "REDIS_URL": None},
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"Bousla: Port {base + 1} (Rasa server 1) is already in use on 127.0.0.1: another "
        "Bousla may still be running (stop it first), or set RASA_PORT (replica i listens on "
        "it + i) to a free port."
    )


# ---------------------------------------------------------------- nginx


@needs_nginx
def test_the_generated_configuration_is_accepted_by_nginx(tmp_path):
    config = local_config(
        host="127.0.0.1", rasa_port=7005, actions_port=7055,
        rasa_ports=[7006, 7007], action_ports=[7056, 7057], state_dir=tmp_path / "nginx",
    )  # fmt: skip
    path = config.write(tmp_path / "nginx" / "nginx.conf")
    assert check_config(find_nginx(), path, config.state_dir) is None
    text = path.read_text()
    assert "server 127.0.0.1:7006 " in text and "server 127.0.0.1:7007 " in text
    assert "listen 127.0.0.1:7005;" in text and "listen 127.0.0.1:7055;" in text
    assert "daemon off;" in text
    # Everything nginx writes stays in its own folder.
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("pid ", "error_log ", "access_log ")) or "_temp_path" in stripped:
            assert str(tmp_path / "nginx") in stripped, stripped
    # Webhooks may go to another replica after a failure (they are deduplicated); the
    # REST channel only when it never reached one.
    whatsapp = text.split("location /webhooks/whatsapp/")[1].split("}")[0]
    assert "non_idempotent" in whatsapp
    rest = text.split("location / {")[1].split("}")[0]
    assert "non_idempotent" not in rest


@needs_nginx
def test_a_broken_configuration_gets_nginx_own_words(tmp_path):
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp { server { listen nowhere:port; } }\n")
    problem = check_config(find_nginx(), path, tmp_path)
    assert problem and "nowhere" in problem


@require_system("nginx", "openssl")
def test_the_tls_front_is_accepted_by_nginx(tmp_path):
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=bousla.example.ma", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    config = NginxConfig(
        state_dir=tmp_path / "nginx", log_dir=tmp_path / "nginx",
        listen="127.0.0.1:7005", actions_listen="127.0.0.1:7055",
        rasa_upstreams=["10.0.0.11:7006", "10.0.0.12:7006"],
        action_upstreams=["127.0.0.1:7056"],
        public=PublicServer("bousla.example.ma", str(certificate), str(key)),
    )  # fmt: skip
    path = config.write(tmp_path / "nginx" / "nginx.conf")
    assert check_config(find_nginx(), path, config.state_dir) is None
    text = path.read_text()
    assert "listen 443 ssl" in text and "return 301 https://$host$request_uri;" in text


# ---------------------------------------------------------------- restarts


SUPERVISED = textwrap.dedent(
    """
    import sys
    from honcho.printer import Printer
    from bot.ops.run import SupervisingManager

    SupervisingManager.RESTART_DELAY = 0.1
    SupervisingManager.MAX_RESTARTS = 2
    manager = SupervisingManager(Printer(sys.stdout), {"flaky"})
    manager.add_process("flaky", "echo up; sleep 0.3; exit 3")
    manager.add_process("steady", "sleep 60")
    manager.loop()
    sys.exit(manager.returncode)
    """
)


def test_a_dead_replica_is_started_again_and_a_crash_loop_stops_everything():
    begun = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", SUPERVISED], cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    output = result.stdout
    assert result.returncode == 3, output
    assert output.count("flaky  | up") == 3, output  # first start and two restarts
    assert output.count("flaky stopped (rc=3); starting it again") == 2, output
    assert "sending SIGTERM to steady" in output  # the third death stops everything
    assert time.monotonic() - begun < 30


# ---------------------------------------------------------------- real hosts


def test_deploy_folder_is_what_the_generator_writes(tmp_path):
    written = write_example(tmp_path)
    assert written
    for path in written:
        committed = PROJECT_ROOT / "deploy" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: run `bousla deploy example`"
        assert committed.read_text() == path.read_text(), (
            f"{committed} differs from the generator: run `bousla deploy example`"
        )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path):
    layout = HostLayout(replicas=2, prefix=str(PROJECT_ROOT), user="root")
    for name, content in units(layout).items():
        (tmp_path / name.replace("@.", "@1.")).write_text(content)
    files = sorted(str(p) for p in [*tmp_path.glob("*.service"), *tmp_path.glob("*.timer")])
    assert any(f.endswith("bousla-purge.timer") for f in files)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_retention_runs_every_night_with_the_other_units():
    generated = units(HostLayout(replicas=2))
    timer, service = generated["bousla-purge.timer"], generated["bousla-purge.service"]
    assert "OnCalendar=*-*-* 03:30:00" in timer and "Persistent=true" in timer
    assert "ExecStart=/opt/bousla/.venv/bin/bousla purge" in service
    assert "EnvironmentFile=/etc/bousla/bousla.env" in service
    # Starting Bousla starts the timer: no separate step to forget.
    assert "bousla-purge.timer" in generated["bousla.target"].split("Wants=")[1].splitlines()[0]


def test_serve_runs_the_command_bousla_run_runs(tmp_path):
    env = {
        "BOUSLA_VAR_DIR": str(tmp_path), "RASA_PORT": "6105", "ACTIONS_PORT": "6155",
        "BOUSLA_MODELS_DIR": str(tmp_path / "models"),
    }  # fmt: skip
    from bot.ops.training import model_path

    model = model_path(tmp_path / "models")
    model.parent.mkdir()
    model.write_bytes(b"")  # only its name matters for the command line
    result = run_bousla("serve", "rasa", "--replica", "2", "--print", env=env)
    assert result.returncode == 0, result.stderr
    expected = services(
        Settings(var_dir=tmp_path, rasa_port=6105, actions_port=6155),
        model=str(model),
        replicas=2,
    )
    rasa_2 = next(s for s in expected if s.name == "rasa-2")
    import shlex

    assert shlex.split(result.stdout.strip()) == rasa_2.command
    actions = run_bousla("serve", "actions", "--replica", "1", "--print", env=env)
    assert shlex.split(actions.stdout.strip())[-1] == "6156"
