"""`make test` on a fresh machine: tests that need Debian's nginx (or Chromium, PostgreSQL's
server binaries, redis-server) are skipped with the reason printed; in CI
(BOUSLA_REQUIRE_SYSTEM_DEPS=1) the same skip fails the run."""

from __future__ import annotations

import os
import subprocess
import sys

from bot import PROJECT_ROOT

NEED_NGINX = (
    "tests/test_scale_config.py::test_replicas_listen_next_to_the_ports_nginx_takes",
    "tests/test_scale_config.py::test_bousla_run_names_an_unreachable_redis",
    "tests/test_nginx_exposure.py::test_provider_webhooks_work_from_outside",
)


def pytest_without_nginx(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *NEED_NGINX],
        cwd=PROJECT_ROOT,
        env={**os.environ, "BOUSLA_NGINX": "", **env},  # as if nginx were not installed
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_nginx_the_tests_that_need_it_are_skipped_with_the_reason():
    result = pytest_without_nginx(BOUSLA_REQUIRE_SYSTEM_DEPS="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 skipped" in result.stdout
    assert "needs Debian's nginx (`make system-deps`)" in result.stdout


def test_in_ci_a_missing_system_package_fails_instead_of_skipping():
    result = pytest_without_nginx(BOUSLA_REQUIRE_SYSTEM_DEPS="1")
    assert result.returncode == 1, result.stdout
    assert "3 errors" in result.stdout  # failed while setting up, before any test ran
    assert "BOUSLA_REQUIRE_SYSTEM_DEPS=1 forbids skipping it" in result.stdout
