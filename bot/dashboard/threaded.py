"""The dashboard served by uvicorn in a background thread (browser tests, benchmarks)."""

from __future__ import annotations

import threading
import time

import uvicorn


class ThreadedDashboard:
    """`with ThreadedDashboard(app, port) as server: ... server.url`."""

    def __init__(self, app, port: int, host: str = "127.0.0.1") -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            ws="none",  # live updates use server-sent events; Rasa pins websockets 10
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="dashboard")
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> ThreadedDashboard:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)
