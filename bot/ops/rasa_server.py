"""`rasa run` as Bousla runs it: `python -m bot.ops.rasa_server run ...` (bousla run).

- Bousla's changes inside the Rasa server's process (bot/ops/rasa_tuning.py);
- the JWT secret for Rasa's HTTP API (derived from BOUSLA_SECRET_KEY) added inside the
  process, so that it never appears in `ps`, /proc/<pid>/cmdline or the journal. The
  dashboard signs a short-lived token with it and sends it in the Authorization header,
  never in a query string (bot/dashboard/rasa_api.py);
- with BOUSLA_TURN_TIMINGS, the timers of `bousla bench turn --breakdown`
  (bot/ops/bench/turn_probe.py).
"""

from __future__ import annotations

import os
import sys

from bot.settings import get_settings


def main() -> None:
    from bot.ops import rasa_tuning

    rasa_tuning.apply()
    if os.environ.get("BOUSLA_TURN_TIMINGS"):  # `bousla bench turn --breakdown`
        from bot.ops.bench.turn_probe import install

        install()
    secret = get_settings().rasa_api_token
    sys.argv = ["rasa", *sys.argv[1:], "--jwt-secret", secret, "--jwt-method", "HS256"]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
