"""`GET /events`: server-sent events for open pages (see bot.dashboard.live)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from bot.dashboard.deps import CurrentUser
from bot.dashboard.live import HEARTBEAT_SECONDS, sse

router = APIRouter(tags=["live"])


@router.get("/events")
async def events(request: Request, user: CurrentUser) -> StreamingResponse:
    """Event stream: `message` {person_id}, `note` {handoff_id}, `queue` {handoff_ids,
    new, open}. Pages re-fetch the fragments concerned."""
    feed = request.app.state.live_feed

    async def stream() -> AsyncIterator[str]:
        async with feed.listen() as queue:
            yield "retry: 2000\nevent: ready\ndata: {}\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield sse(event)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
