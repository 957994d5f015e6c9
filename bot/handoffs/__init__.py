"""Requests for a counsellor ("handoffs"), from the moment the bot queues one to the
counsellor's hand-back: one service for the bot's actions and the dashboard.

- `service`: request, cancel, claim, reply, note, resolve, hand back, take over (every
  change, with its audit entry);
- `views`: what counsellors see (the queue, a request with its conversation and notes).
"""
