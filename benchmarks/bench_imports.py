"""Benchmark what importing the package costs a host, in fresh interpreters.

The package is embedded in web servers and installed in environments whose every
pytest run loads its plugin, so:

1. ``import userimport`` against ``import attrs`` (the dependency of every value
   class), each timed inside a fresh interpreter (``sys.executable -c``), the
   import alone, in CPU time of that interpreter. Target: <= 2x. Shown beside it,
   against the same ``import attrs``: the value classes (``from userimport import
   Issue, MemoryStore, OrgTree, UserRow``), the flow (``from userimport import
   prepare``: reading and validation, still without chardet and email-validator),
   and everything the package once imported eagerly (the flow, the converter,
   chardet and email-validator).
2. A host's trivial pytest run: a temporary folder with one trivial test, run with
   ``-p no:cacheprovider``, with the package's pytest plugin and hypothesis hook
   active, and with both disabled (``-p no:userimport`` and
   ``HYPOTHESIS_NO_PLUGINS=1``, which makes hypothesis skip every entry point of
   its ``hypothesis`` group). Timed in CPU time of the whole pytest process.
   Target: <= +50 ms. The same with a test module that imports hypothesis is
   measured too (same target). The hook runs in the trivial run as well:
   hypothesis' own pytest plugin imports hypothesis at the end of every session
   (6.170 does, for its terminal summary), and hypothesis calls the hooks of its
   entry points when it is imported.
3. For information, what the plugin and the hook add, timed inside a fresh
   interpreter, which is far less noisy than a whole pytest run: loading the
   plugin after pytest, and the hook's import and registration after hypothesis.
   The hook's cost is attrs, the two modules of the classes it registers, and the
   module of type strategies that hypothesis' ``register_type_strategy`` imports.

Every round runs the actions in turn, try after try (best of ``TRIES``, or of
``PYTEST_TRIES`` for the pytest runs), so a busier period slows them all alike; a
ratio or difference is the median over the rounds of that round's, as
``benchmarks/common.py`` does in process. The trivial pytest run is also timed
twice disabled, side by side with itself: that difference, zero but for the
machine's noise, is shown beside the figure to judge it by.

The interpreters import compiled bytecode, as they do from an installed wheel: they
write and read it in a temporary ``PYTHONPYCACHEPREFIX`` (never in the working
tree), whatever ``PYTHONDONTWRITEBYTECODE`` says, and a warm-up run of each action
fills it. Without bytecode, every import of the package's own modules would compile
them from source, while its dependencies' bytecode was compiled when they were
installed.

Run ``python benchmarks/bench_imports.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
from common import Figure, SideBySide, print_figures

IMPORT_ROUNDS = 15
PYTEST_ROUNDS = 9
TRIES = 3
#: A pytest run takes a third of a second, long enough for other work on a shared
#: machine to slow some runs: each round keeps the best of more tries.
PYTEST_TRIES = 5
IMPORT_TARGET = 2.0  # x import attrs
PLUGIN_TARGET = 0.050  # seconds added to a trivial pytest run

#: Code that prints the CPU time of a statement, after a setup, in nanoseconds.
TIMED = (
    "{setup}\n"
    "import time\n"
    "start = time.process_time_ns()\n"
    "{statement}\n"
    "print(time.process_time_ns() - start)\n"
)

VALUES = "from userimport import Issue, MemoryStore, OrgTree, UserRow"
#: Everything ``import userimport`` loaded before it loaded the flow, the converter,
#: chardet and email-validator on first use.
EAGER = (
    "import userimport, userimport.flow, userimport.serialization,"
    " chardet, email_validator"
)
HOOK = (
    "from userimport._hypothesis_hook import _hypothesis_setup_hook\n"
    "_hypothesis_setup_hook()"
)

TRIVIAL_TEST = "def test_trivial():\n    assert True\n"
HYPOTHESIS_TEST = (
    "import hypothesis\n\n\ndef test_trivial():\n    assert hypothesis.__version__\n"
)


@attrs.frozen
class Statement:
    """Python code timed inside a fresh interpreter, after an untimed setup."""

    code: str
    env: Mapping[str, str]
    setup: str = ""

    def seconds(self) -> float:
        """CPU seconds of the code, measured inside the interpreter."""
        program = TIMED.format(setup=self.setup, statement=self.code)
        result = subprocess.run(
            [sys.executable, "-c", program],
            capture_output=True,
            text=True,
            check=True,
            env=self.env,
        )
        return int(result.stdout.strip().splitlines()[-1]) / 1e9


@attrs.frozen
class Command:
    """A command timed as a whole child process."""

    argv: Sequence[str]
    env: Mapping[str, str]
    cwd: Path

    def seconds(self) -> float:
        """CPU seconds (user and system) of the child process, run to its end."""
        before = _children_cpu()
        subprocess.run(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return _children_cpu() - before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def environment(pycache: str, **changes: str) -> dict[str, str]:
    """This process's environment for a child that keeps its bytecode in
    ``pycache``, with hypothesis' plugins on and no extra pytest options, changed
    by ``changes``."""
    env = dict(os.environ)
    for name in ("HYPOTHESIS_NO_PLUGINS", "PYTEST_ADDOPTS", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = pycache
    env.update(changes)
    return env


def side_by_side_processes(
    actions: Mapping[str, Statement | Command], *, rounds: int, tries: int = TRIES
) -> SideBySide:
    """Like ``common.side_by_side``, for actions that are fresh processes.

    A round's tries alternate between the actions, in turn forwards and backwards
    (A B, B A, A B, ...), so that a change of the machine's load during the round
    weighs on every action alike; each action keeps its best try of the round.
    """
    for action in actions.values():
        action.seconds()  # warm-up: compiled bytecode, the disk cache
    names = list(actions)
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        best = dict.fromkeys(names, float("inf"))
        for attempt in range(tries):
            for name in names if attempt % 2 == 0 else reversed(names):
                best[name] = min(best[name], actions[name].seconds())
        for name in names:
            times[name].append(best[name])
    return SideBySide(
        seconds={name: statistics.median(ts) for name, ts in times.items()},
        rounds=times,
    )


def _difference(timed: SideBySide, name: str, base: str) -> float:
    return statistics.median(
        a - b for a, b in zip(timed.rounds[name], timed.rounds[base], strict=True)
    )


def figures_import(*, rounds: int = IMPORT_ROUNDS) -> list[Figure]:
    """``import userimport`` against ``import attrs``, in fresh interpreters."""
    with tempfile.TemporaryDirectory() as pycache:
        env = environment(pycache)
        no_hooks = environment(pycache, HYPOTHESIS_NO_PLUGINS="1")
        timed = side_by_side_processes(
            {
                "attrs": Statement("import attrs", env),
                "userimport": Statement("import userimport", env),
                "values": Statement(VALUES, env),
                "flow": Statement("from userimport import prepare", env),
                "eager": Statement(EAGER, env),
                "plugin": Statement(
                    "import userimport._pytest_plugin", env, setup="import pytest"
                ),
                "hook": Statement(HOOK, no_hooks, setup="import hypothesis"),
            },
            rounds=rounds,
        )
    ratio = timed.ratio("userimport", "attrs")
    ms = {name: seconds * 1000 for name, seconds in timed.seconds.items()}
    return [
        Figure(
            "import userimport, fresh interpreter / import attrs",
            f"{ratio:.2f}x ({ms['userimport']:.1f} ms / {ms['attrs']:.1f} ms CPU)",
            f"<= {IMPORT_TARGET:g}x",
            ratio <= IMPORT_TARGET,
        ),
        Figure(
            "  the value classes (UserRow, OrgTree, Issue, MemoryStore)",
            f"{timed.ratio('values', 'attrs'):.2f}x import attrs"
            f" ({ms['values']:.1f} ms CPU)",
        ),
        Figure(
            "  from userimport import prepare (the flow; not chardet, email-validator)",
            f"{timed.ratio('flow', 'attrs'):.2f}x import attrs"
            f" ({ms['flow']:.1f} ms CPU)",
        ),
        Figure(
            "  the flow, the converter, chardet and email-validator",
            f"{timed.ratio('eager', 'attrs'):.2f}x import attrs"
            f" ({ms['eager']:.1f} ms CPU)",
        ),
        Figure(
            "  loading the pytest plugin; the hypothesis hook (import, registration)",
            f"{ms['plugin']:.1f} ms; {ms['hook']:.1f} ms CPU",
        ),
    ]


def figures_pytest(*, rounds: int = PYTEST_ROUNDS) -> list[Figure]:
    """A host's trivial pytest run with the plugin and hook active and disabled."""
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = []
    with tempfile.TemporaryDirectory() as folder:
        pycache = os.path.join(folder, "pycache")
        active = environment(pycache)
        disabled = environment(pycache, HYPOTHESIS_NO_PLUGINS="1")
        for label, test in (
            ("one trivial test", TRIVIAL_TEST),
            ("a test module importing hypothesis", HYPOTHESIS_TEST),
        ):
            cwd = Path(folder, label.replace(" ", "-"))
            cwd.mkdir()
            (cwd / "test_host.py").write_text(test)
            off = Command([*pytest, "-p", "no:userimport"], disabled, cwd)
            runs = {"disabled": off, "active": Command(pytest, active, cwd)}
            if test == TRIVIAL_TEST:
                runs["disabled again"] = off
            timed = side_by_side_processes(runs, rounds=rounds, tries=PYTEST_TRIES)
            added = _difference(timed, "active", "disabled")
            noise = ""
            if "disabled again" in runs:
                same = _difference(timed, "disabled again", "disabled")
                noise = f"; disabled twice {same * 1000:+.1f} ms"
            result.append(
                Figure(
                    f"pytest run, {label}: plugin and hook active - disabled",
                    f"{added * 1000:+.1f} ms CPU"
                    f" ({timed.seconds['disabled'] * 1000:.0f} ms disabled{noise})",
                    f"<= +{PLUGIN_TARGET * 1000:g} ms",
                    added <= PLUGIN_TARGET,
                )
            )
    return result


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [*figures_import(), *figures_pytest()]


def main() -> int:
    """Run the benchmark, print the figures, return the exit status."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
