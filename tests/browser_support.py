"""A real dashboard server (uvicorn in a thread) and Debian's Chromium driven by Playwright.

Browser tests skip with a clear reason when /usr/bin/chromium is missing (`.ci/run`
installs it). Screenshots go to tests/artifacts/ (kept as test artefacts, not committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.dashboard.threaded import ThreadedDashboard
from tests.system_deps import require_system

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
requires_chromium = require_system("chromium")


LiveServer = ThreadedDashboard


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():  # tests that use it are marked `requires_chromium`
        pytest.skip("needs Debian's Chromium (`make system-deps`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield launched
        launched.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
