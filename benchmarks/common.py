"""What every benchmark shares: the figures they report and how they time things.

The machines these run on are shared and noisy, so:

* code is timed in CPU time of this process (``time.process_time_ns``), not wall
  time, because waiting for a core is not work done (the SQL benchmark, whose work
  includes waiting for the disk, is the exception and says so);
* what is compared is timed side by side: every round times each action once (the
  best of a few tries), in turn, so a busier period slows them all alike; a ratio is
  the median over the rounds of that round's ratio, never a ratio of two figures
  measured at different times;
* a figure is the median over the rounds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence

import attrs

__all__ = ["Figure", "SideBySide", "format_table", "print_figures", "side_by_side"]


@attrs.frozen
class Figure:
    """One line of a benchmark's report.

    Attributes:
        measure: What was measured, in words.
        value: The median, formatted with its unit (``"3.1x the floor"``).
        target: The target, formatted (``"<= 4x"``), or ``""`` for a figure shown
            for information.
        met: Whether the target is met; ``None`` for information only.
    """

    measure: str
    value: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        """``pass``, ``FAIL``, or ``""`` for a figure without a target."""
        if self.met is None:
            return ""
        return "pass" if self.met else "FAIL"


@attrs.frozen
class SideBySide:
    """The result of :func:`side_by_side`.

    Attributes:
        seconds: The median over the rounds of each action's best time, by name.
        rounds: Each round's best time of each action, by name, in seconds.
    """

    seconds: Mapping[str, float]
    rounds: Mapping[str, Sequence[float]]

    def ratio(self, name: str, base: str) -> float:
        """The median over the rounds of ``name``'s time divided by ``base``'s."""
        return statistics.median(
            a / b for a, b in zip(self.rounds[name], self.rounds[base], strict=True)
        )


def side_by_side(
    actions: Mapping[str, Callable[[], object]],
    *,
    rounds: int,
    tries: int = 3,
    before: Mapping[str, Callable[[], object]] | None = None,
    clock: Callable[[], int] = time.process_time_ns,
) -> SideBySide:
    """Time actions in turn, round after round, in CPU time (or on ``clock``).

    Args:
        actions: What to time, by name.
        rounds: How many rounds; each gives one time per action.
        tries: Runs of an action per round; the round keeps the best (the others
            measured the machine's other work).
        before: Per action, something to run untimed before each try (such as
            clearing a cache).
        clock: Nanoseconds now; ``time.perf_counter_ns`` for work done outside
            this process (a database server's).
    """
    before = before or {}
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            prepare = before.get(name)
            best = float("inf")
            for _ in range(tries):
                if prepare is not None:
                    prepare()
                start = clock()
                action()
                best = min(best, clock() - start)
            times[name].append(best / 1e9)
    return SideBySide(
        seconds={name: statistics.median(ts) for name, ts in times.items()},
        rounds=times,
    )


def format_table(figures: Sequence[Figure]) -> str:
    """The figures as a Markdown table: measure, median, target, result."""
    header = ("measure", "median", "target", "result")
    rows = [header, *((f.measure, f.value, f.target, f.verdict) for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "| "
        + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def print_figures(figures: Sequence[Figure]) -> int:
    """Print the figures as a table; the exit status: 1 if a target is missed."""
    print(format_table(figures))
    return 1 if any(f.met is False for f in figures) else 0
