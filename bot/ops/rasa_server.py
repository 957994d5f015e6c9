"""`rasa run` as Bousla runs it: `python -m bot.ops.rasa_server run ...` (bousla run).

Applies Bousla's changes inside the Rasa server's process (bot/ops/rasa_tuning.py), and
with BOUSLA_TURN_TIMINGS the timers of `bousla bench turn --breakdown`
(bot/ops/bench/turn_probe.py), then hands over to Rasa's own command line.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from bot.ops import rasa_tuning

    rasa_tuning.apply()
    if os.environ.get("BOUSLA_TURN_TIMINGS"):  # `bousla bench turn --breakdown`
        from bot.ops.bench.turn_probe import install

        install()
    sys.argv = ["rasa", *sys.argv[1:]]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
