"""Bad starts give one clear sentence, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from bot import PROJECT_ROOT
from bot.ops.localstack import free_port


def run_bousla(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_port_in_use_is_named_with_the_variable_to_change(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        result = run_bousla(
            "run",
            env={
                "RASA_PORT": str(busy),
                "ACTIONS_PORT": str(free_port()),
                "DASHBOARD_PORT": str(free_port()),
                "BOUSLA_VAR_DIR": str(tmp_path),
            },
        )
    assert result.returncode == 2
    assert f"Port {busy} (Rasa server) is already in use" in result.stderr
    assert "RASA_PORT" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unreachable_database_is_one_sentence(tmp_path):
    result = run_bousla(
        "run",
        env={
            "DATABASE_URL": "postgresql://bousla@127.0.0.1:1/bousla",
            "RASA_PORT": str(free_port()),
            "ACTIONS_PORT": str(free_port()),
            "DASHBOARD_PORT": str(free_port()),
            "BOUSLA_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 1
    output = result.stderr.strip()
    assert output.startswith("Bousla: Cannot reach the database postgresql://bousla@127.0.0.1:1/")
    assert "DATABASE_URL" in output
    assert len(output.splitlines()) == 1 and "Traceback" not in output


@pytest.mark.skipif(
    any(os.access(f"{d}/python3.10", os.X_OK) for d in ("/usr/bin", "/bin")),
    reason="this machine has a system Python 3.10",
)
def test_setup_without_python_310_says_what_to_install(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "setup", f"VENV={tmp_path / 'venv'}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Bousla needs Python 3.10" in result.stderr
    assert "pyenv install 3.10" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_port_left_in_time_wait_by_a_stopped_bousla_is_free():
    """Restarting right after a stop: the old server's closed connections are in TIME_WAIT."""
    from bot.ops.run import port_in_use

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: its side of the connection waits (TIME_WAIT)
    client.recv(1)
    client.close()
    assert port_in_use("127.0.0.1", port)  # still listening
    server.close()
    assert not port_in_use("127.0.0.1", port)
