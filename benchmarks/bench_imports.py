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
   its ``hypothesis`` group). Timed in CPU time of the pytest process. Target:
   <= +50 ms. The same with a test module that imports hypothesis is measured too
   (same target), and the trivial run with the plugin alone and the hook alone,
   for information. The hook runs in the trivial run too: hypothesis' own pytest
   plugin imports hypothesis at the end of every session (6.170 does, for its
   terminal summary), and hypothesis calls the hooks of its entry points when
   imported. What the hook costs is attrs and the two modules of the classes it
   registers, and hypothesis' module of type strategies, which
   ``register_type_strategy`` imports.

Every round runs each command once per try in turn (best of ``TRIES``), so a busier
period slows them all alike; a ratio or difference is the median over the rounds of
that round's, as ``benchmarks/common.py`` does in process.

The interpreters import compiled bytecode, as they do from an installed wheel: they
write and read it in a temporary ``PYTHONPYCACHEPREFIX`` (never in the working
tree), whatever ``PYTHONDONTWRITEBYTECODE`` says, and a warm-up run of each command
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

from common import Figure, SideBySide, print_figures

IMPORT_ROUNDS = 15
PYTEST_ROUNDS = 11
TRIES = 3
IMPORT_TARGET = 2.0  # x import attrs
PLUGIN_TARGET = 0.050  # seconds added to a trivial pytest run

#: Code that prints the CPU time of one import statement, in nanoseconds.
TIMED_IMPORT = (
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

TRIVIAL_TEST = "def test_trivial():\n    assert True\n"
HYPOTHESIS_TEST = (
    "import hypothesis\n\n\ndef test_trivial():\n    assert hypothesis.__version__\n"
)


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


def import_seconds(statement: str, *, env: Mapping[str, str]) -> float:
    """CPU seconds of ``statement`` in a fresh interpreter, measured inside it."""
    result = subprocess.run(
        [sys.executable, "-c", TIMED_IMPORT.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1e9


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_seconds(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> float:
    """CPU seconds (user and system) of a child process run to its end."""
    before = _children_cpu()
    subprocess.run(
        command, cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return _children_cpu() - before


Action = tuple[str, Mapping[str, str]] | tuple[Sequence[str], Mapping[str, str], Path]


def side_by_side_processes(
    actions: Mapping[str, Action], *, rounds: int, tries: int = TRIES
) -> SideBySide:
    """Like ``common.side_by_side``, for actions that are fresh processes.

    An action is an import statement and its environment (timed inside its
    interpreter), or a command with its environment and folder (timed as the
    whole child process).
    """

    def once(action: Action) -> float:
        if len(action) == 2:
            statement, env = action
            assert isinstance(statement, str)
            return import_seconds(statement, env=env)
        command, env, cwd = action
        return run_seconds(command, cwd=cwd, env=env)

    for action in actions.values():
        once(action)  # warm-up: compiled bytecode, the disk cache
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            times[name].append(min(once(action) for _ in range(tries)))
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
        timed = side_by_side_processes(
            {
                "attrs": ("import attrs", env),
                "userimport": ("import userimport", env),
                "values": (VALUES, env),
                "flow": ("from userimport import prepare", env),
                "eager": (EAGER, env),
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
    ]


def figures_pytest(*, rounds: int = PYTEST_ROUNDS) -> list[Figure]:
    """A host's trivial pytest run with the plugin and hook active and disabled."""
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    without_plugin = [*pytest, "-p", "no:userimport"]
    result = []
    with tempfile.TemporaryDirectory() as folder:
        pycache = os.path.join(folder, "pycache")
        with_hook = environment(pycache)
        without_hook = environment(pycache, HYPOTHESIS_NO_PLUGINS="1")
        for label, test, apart in (
            ("one trivial test", TRIVIAL_TEST, True),
            ("a test module importing hypothesis", HYPOTHESIS_TEST, False),
        ):
            cwd = Path(folder, label.replace(" ", "-"))
            cwd.mkdir()
            (cwd / "test_host.py").write_text(test)
            runs: dict[str, Action] = {
                "disabled": (without_plugin, without_hook, cwd),
                "active": (pytest, with_hook, cwd),
            }
            if apart:
                runs["plugin"] = (pytest, without_hook, cwd)
                runs["hook"] = (without_plugin, with_hook, cwd)
            timed = side_by_side_processes(runs, rounds=rounds)
            added = _difference(timed, "active", "disabled")
            result.append(
                Figure(
                    f"pytest run, {label}: plugin and hook active - disabled",
                    f"{added * 1000:+.1f} ms CPU"
                    f" ({timed.seconds['disabled'] * 1000:.0f} ms disabled)",
                    f"<= +{PLUGIN_TARGET * 1000:g} ms",
                    added <= PLUGIN_TARGET,
                )
            )
            if apart:
                result.append(
                    Figure(
                        "  the plugin alone; the hook alone",
                        f"{_difference(timed, 'plugin', 'disabled') * 1000:+.1f} ms;"
                        f" {_difference(timed, 'hook', 'disabled') * 1000:+.1f} ms",
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
