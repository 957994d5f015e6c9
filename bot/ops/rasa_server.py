"""`rasa run` with the HTTP API's secret from the environment, not the command line.

`bousla run` and `bousla serve rasa` start `python -m bot.ops.rasa_server run ...`; this
adds the JWT secret for Rasa's HTTP API (derived from BOUSLA_SECRET_KEY) inside the process,
so that it never appears in `ps`, /proc/<pid>/cmdline or the journal. The dashboard signs a
short-lived token with it and sends it in the Authorization header, never in a query
string (bot/dashboard/rasa_api.py)."""

from __future__ import annotations

import os
import sys

from bot.settings import get_settings


def main() -> None:
    if os.environ.get("BOUSLA_TURN_TIMINGS"):  # `bousla bench turn --breakdown`
        from bot.ops.bench.turn_probe import install

        install()
    secret = get_settings().rasa_api_token
    sys.argv = ["rasa", *sys.argv[1:], "--jwt-secret", secret, "--jwt-method", "HS256"]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
