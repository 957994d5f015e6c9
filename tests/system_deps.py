"""What some tests need from Debian besides the virtual environment, and what happens
without it.

`make system-deps` installs everything (nginx, Chromium and the emoji font, PostgreSQL's
server binaries, redis-server, openssl). Without them, the tests that need them are skipped
with the reason printed (`make test` shows skip reasons); with BOUSLA_REQUIRE_SYSTEM_DEPS=1
(set by `.ci/run`) such a skip is a failure, so CI proves every guarantee.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ops.scale.nginx import find_nginx

REQUIRED = os.environ.get("BOUSLA_REQUIRE_SYSTEM_DEPS") == "1"


def _postgres_server() -> bool:
    return bool(list(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


# name: (is it here?, what provides it)
SYSTEM: dict[str, tuple[Callable[[], object], str]] = {
    "nginx": (find_nginx, "Debian's nginx (`make system-deps`)"),
    "chromium": (lambda: Path("/usr/bin/chromium").exists(),
                 "Debian's Chromium (`make system-deps`)"),
    "postgresql-server": (_postgres_server,
                          "PostgreSQL's server binaries (`make system-deps`)"),
    "redis-server": (lambda: shutil.which("redis-server"), "redis-server (`make system-deps`)"),
    "openssl": (lambda: shutil.which("openssl"), "openssl (`make system-deps`)"),
    "test-database": (lambda: os.environ.get("TEST_DATABASE_URL"),
                      "TEST_DATABASE_URL (a PostgreSQL database for tests; `.ci/run` sets it)"),
}  # fmt: skip


def require_system(*names: str) -> pytest.MarkDecorator:
    """Mark a test (or a module, as `pytestmark`) that needs these system components."""
    unknown = set(names) - set(SYSTEM)
    assert not unknown, unknown
    return pytest.mark.system_deps(*names)


def missing(*names: str) -> list[str]:
    return [SYSTEM[name][1] for name in names if not SYSTEM[name][0]()]


def check(item: pytest.Item) -> None:
    """Skip (or, in CI, fail) a test whose system components are missing."""
    absent = [what for mark in item.iter_markers("system_deps") for what in missing(*mark.args)]
    if not absent:
        return
    reason = "needs " + ", ".join(dict.fromkeys(absent))
    if REQUIRED:
        pytest.fail(f"{reason}: BOUSLA_REQUIRE_SYSTEM_DEPS=1 forbids skipping it", pytrace=False)
    pytest.skip(reason)
