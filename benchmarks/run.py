"""The one benchmark command: every performance target of the project, in one table.

Run from the project's root::

    .venv/bin/python benchmarks/run.py

It prints a Markdown table (measure, median, target, pass/FAIL) and exits with
status 1 when a target is missed. Ratios are measured side by side in this one run
(see ``benchmarks/common.py``): the machines are shared and noisy, so absolute times
vary from run to run and machine to machine, ratios much less. frictionless-py is
compared only when installed (``pip install --group bench``). It takes a minute or
two; progress goes to standard error.

Each ``bench_*.py`` module also runs alone and prints its own figures.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import sys
import time
from collections.abc import Sequence

from common import Figure, format_table

#: The sections of the table, in the order they are measured: a title, and the
#: module and function that measure it. Modules are imported as their turn comes:
#: the imports of 200 and 100,000 rows run first, before SQLAlchemy and frictionless
#: are loaded, because the garbage collector's full passes during a large import
#: walk every object of the process (see docs/benchmarks.md).
SECTIONS: Sequence[tuple[str, str, str]] = (
    ("prepare, 200 rows", "bench_prepare", "figures_200"),
    ("revise, 200 rows", "bench_prepare", "figures_revise"),
    ("no row limit", "bench_prepare", "figures_bulk"),
    ("upload stream", "bench_prepare", "figures_stream"),
    ("encoding detection", "bench_reading", "figures_detection"),
    ("adversarial uploads", "bench_adversarial", "figures"),
    ("encoding accuracy", "bench_encodings", "figures"),
    ("legacy encodings in prepare", "bench_encodings", "speed_figures"),
    ("Excel workbooks", "bench_xlsx", "figures"),
    ("organization tree", "bench_hierarchy", "figures"),
    ("frictionless-py", "bench_prepare", "figures_frictionless"),
    ("SQLite store", "bench_sql", "figures"),
    ("look-alike emails", "bench_confusables", "figures"),
    ("imports", "bench_imports", "figures"),
)
#: The order of the sections in the table.
TABLE_ORDER: Sequence[str] = (
    "prepare, 200 rows",
    "revise, 200 rows",
    "frictionless-py",
    "upload stream",
    "encoding detection",
    "adversarial uploads",
    "encoding accuracy",
    "legacy encodings in prepare",
    "Excel workbooks",
    "organization tree",
    "SQLite store",
    "look-alike emails",
    "no row limit",
    "imports",
)


def machine() -> str:
    """One line about where and when the figures were measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{datetime.date.today().isoformat()}, Python {platform.python_version()}"
        f" ({platform.python_implementation()}), {platform.system()}"
        f" {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}"
    )


def main() -> int:
    """Run every section, print the table; 1 if a target is missed."""
    started = time.perf_counter()
    measured: dict[str, list[Figure]] = {}
    for title, module, function in SECTIONS:
        print(f"measuring: {title} ...", file=sys.stderr, flush=True)
        measured[title] = getattr(importlib.import_module(module), function)()
    figures = [figure for title in TABLE_ORDER for figure in measured[title]]
    missed = [f for f in figures if f.met is False]
    gated = [f for f in figures if f.met is not None]
    print(f"userimport benchmarks: {machine()}")
    print()
    print(format_table(figures))
    print()
    print(
        f"{len(gated) - len(missed)} of {len(gated)} targets met"
        f" ({time.perf_counter() - started:.0f} s)."
    )
    for figure in missed:
        print(f"MISSED: {figure.measure.strip()}: {figure.value} ({figure.target})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
