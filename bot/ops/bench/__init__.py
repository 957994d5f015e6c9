"""`bousla bench ...`: benchmarks that print figures (recorded in docs/benchmarks.md).

Each benchmark lives in its own module of this package and exposes `register(subparsers)`.
Benchmarks compare with a baseline measured in the same run rather than quoting absolute times.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures")
    bench_subparsers = parser.add_subparsers(dest="bench", metavar="BENCHMARK")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        if hasattr(module, "register"):
            module.register(bench_subparsers)
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)
