"""The dashboard application: routers by resource, wired here and nowhere else."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.dashboard.routes import chat, health
from bot.storage.db import upgrade_database

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


@asynccontextmanager
async def lifespan(_: FastAPI):
    upgrade_database()  # idempotent: `bousla run` already did it, a lone start needs it
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="Bousla dashboard", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(chat.router)
    return app


app = create_app()
