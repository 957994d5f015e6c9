"""Asking the follow-ups that are due: a periodic task of the Rasa server, beside its delivery
worker.

Why there: the question must go into the person's Rasa tracker (so that the next message
is read as its answer) and out through the one outbound path. The Rasa server has both:
its agent (tracker store, lock store, action server) and the delivery worker (channels and
outbox). Every replica runs this task; the database decides who asks what
(`bot.followup.store.claim_due`), so nothing needs a separate timer or a leader.

Every `BOUSLA_FOLLOWUP_POLL_SECONDS`, for each claimed follow-up, under the conversation's
lock (the person's own messages wait meanwhile):

1. the person must still be reachable and free (no counsellor, no form under way, not
   paused), else the claim waits;
2. Rasa runs `action_followup_ask` in the conversation (Rasa's `execute` of an action, as
   the dashboard does for the hand-back) with an output whose outbox keys are
   `followup:<id>:<n>`, then `action_listen`, so the next message is a new user turn;
3. once the question's outbox row exists the follow-up is "asked". A crash between 2 and 3
   leaves the claim to expire; the next attempt finds the row and does not ask again.

On WhatsApp the question leaves more than 24 hours after the person's last message, so
the sender uses the approved template `TWILIO_FOLLOWUP_CONTENT_SID`; without it WhatsApp
follow-ups are not asked at all (one log line), rather than failing one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted

from bot.followup import store
from bot.followup.policy import ASK_ACTION
from bot.settings import get_settings
from bot.storage.db import in_session

logger = logging.getLogger(__name__)

BATCH = 20  # follow-ups claimed per round, per replica
LEASE_SECONDS = 120.0


class DeliveryWorker(Protocol):
    """What the scheduler needs of the Rasa server's delivery worker
    (`bot.channels.worker.ChannelWorker`): its server, its channels, waking its outbox."""

    app: Any
    inputs: Mapping[str, tuple[Any, Callable[..., Any]]]

    def wake_outbox(self) -> None: ...

    def claim_for(self, outbox: bool = False) -> float | None: ...

    def replies_under_way(self, person_id: str, channel: str) -> Any: ...

    def outbox_queued(self, claimed: Any, behind: Any = None) -> None: ...


def rasa_agent(worker: DeliveryWorker) -> Any:
    """The Rasa agent of the worker's server, when it is a real, loaded one."""
    from rasa.core.agent import Agent

    agent = getattr(getattr(worker.app, "ctx", None), "agent", None)
    if isinstance(agent, Agent) and agent.is_ready():
        return agent
    return None


class FollowupScheduler:
    def __init__(
        self,
        worker: DeliveryWorker,
        *,
        days: float | None = None,
        poll_seconds: float | None = None,
        batch: int = BATCH,
    ) -> None:
        settings = get_settings()
        self.worker = worker
        self.days = settings.followup_days if days is None else days
        self.poll_seconds = poll_seconds or settings.followup_poll_seconds
        self.batch = batch
        self._warned_whatsapp = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Run in the background (`run`) until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="bousla-followups")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, timeout=5)

    def channels(self) -> list[str]:
        """Channels this server can write to first (WhatsApp only with its template)."""
        names = sorted(self.worker.inputs)
        if "whatsapp" in names and not get_settings().twilio_followup_content_sid:
            if not self._warned_whatsapp:
                logger.warning(
                    "WhatsApp follow-ups are not sent: TWILIO_FOLLOWUP_CONTENT_SID is not set "
                    "(WhatsApp refuses free text more than 24 hours after a person's message)."
                )
                self._warned_whatsapp = True
            names.remove("whatsapp")
        return names

    async def run(self) -> None:
        """Forever: wait a poll interval, then ask what is due (errors are logged)."""
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Follow-up round failed; trying again later")

    async def run_once(self) -> int:
        """One round: claim the due follow-ups and ask them; returns how many were asked."""
        agent = rasa_agent(self.worker)
        channels = self.channels()
        if agent is None or not channels or self.days <= 0:
            return 0
        claims = await in_session(
            store.claim_due,
            days=self.days,
            channels=channels,
            limit=self.batch,
            lease_seconds=LEASE_SECONDS,
        )
        asked = 0
        for claim in claims:
            asked += await self.ask(agent, claim)
        if claims:
            logger.info("Follow-ups: %s claimed, %s asked", len(claims), asked)
        return asked

    async def ask(self, agent: Any, claim: store.FollowupClaim) -> bool:
        try:
            outbound_id = await in_session(store.question_row, claim.id)
            if outbound_id is None:
                state = await in_session(store.eligibility, claim.person_id)
                if state == "never":
                    await in_session(store.drop, claim.id, reason="person no longer reachable")
                    return False
                if state == "busy" or not await self._ask_in_rasa(agent, claim):
                    await in_session(
                        store.retry_later,
                        claim.id,
                        error=None,
                        delay_seconds=store.BUSY_SECONDS,
                        counts=False,
                    )
                    return False
                outbound_id = await in_session(store.question_row, claim.id)
            if outbound_id is None:
                status = await in_session(
                    store.retry_later,
                    claim.id,
                    error="Rasa queued no question (action server down? programme gone?)",
                )
                logger.warning("Follow-up %s: no question queued; now %s", claim.id, status)
                return False
            await in_session(store.mark_asked, claim.id, outbound_id=outbound_id)
            self.worker.wake_outbox()
            return True
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.exception("Follow-up %s could not be asked", claim.id)
            with contextlib.suppress(Exception):
                await in_session(store.retry_later, claim.id, error=repr(error))
            return False

    async def _ask_in_rasa(self, agent: Any, claim: store.FollowupClaim) -> bool:
        """Run the question in the conversation; False if the person is busy in Rasa."""
        channel, _ = self.worker.inputs[claim.channel]
        output = channel.output(None, self.worker)
        output.key_prefix = store.key_prefix(claim.id)
        async with agent.lock_store.lock(claim.person_id):
            tracker = await agent.processor.fetch_tracker_and_update_session(
                claim.person_id, output
            )
            if tracker.is_paused() or tracker.active_loop_name:
                return False  # a counsellor holds it, or a form is under way
            tracker = await agent.execute_action(
                claim.person_id, ASK_ACTION, output, policy="FollowupScheduler", confidence=1.0
            )
            if tracker is not None:
                # The turn ends here: the person's next message is read as a new turn.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
                await agent.processor.save_tracker(tracker)
        return True
