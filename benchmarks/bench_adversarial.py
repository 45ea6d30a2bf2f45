"""Benchmark the slowest uploads we can construct against reading their bytes.

The rule measured: any upload within ``max_bytes`` prepares in at most 10x the time
of reading the same bytes with ``csv.reader`` (``bytes.decode`` + ``list(csv.reader)``,
the least any CSV importer does). Each input below aims at one expensive step of
``prepare``, at the 200-row limit and up to the 2 MiB size limit:

* long email local parts, quoted (``"aaa…"@example.com``, 7 KB each, 1.4 MiB in
  all), unquoted, and full of ``@`` signs: the email parser walks every character;
* long domain labels, many labels, and a different long domain on every row (ASCII,
  or internationalised), so no domain is validated once for many rows;
* a wide header (100,000 cells) and rows of many tiny cells: header matching and
  the field count;
* long names, organization references and group lists, distinct on every row (a
  name repeated thousands of times, thousands of distinct names, thousands of
  formula-like names).

Each figure is the median ratio of ``prepare`` (an empty store, a two-level tree)
to the floor, timed side by side (``benchmarks/common.py``), with the caches of
email domains emptied before each run: an attacker's domains are new ones. Run
``python benchmarks/bench_adversarial.py``; it exits 1 if a target is missed.

Where every row brings a new domain, the target is a time instead (:data:`BOUNDS`),
and the ratio is still shown. email-validator checks a domain character by
character in Python (UTS #46 mapping, then IDNA with Python's Punycode codec,
three times over for an internationalised one), from about 25 us for a short ASCII
domain to over 2 ms for a 254-octet one of Greek labels, the slowest found; such
domains are valid, so no cheap test can refuse them, and checking them faster
would take a second copy of UTS #46 and IDNA. A non-ASCII address also gets its
UTS #39 skeleton from ICU (about 0.3 us a character) for the look-alike warning.
The bound is 5 ms a row: one second for 200 rows.
"""

from __future__ import annotations

import csv
import functools
import io
import sys

from common import Figure, print_figures, side_by_side

from userimport import (
    Actor,
    ImportOptions,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    Role,
    _email,
    prepare,
    schema,
)
from userimport.decoding import DEFAULT_MAX_BYTES

ROWS = 200
TARGET = 10.0  # x the floor
#: The inputs timed against a bound in milliseconds, and why (see the docstring).
BOUNDS: dict[str, tuple[float, str]] = dict.fromkeys(
    (
        "distinct ASCII domains, 252 characters",
        "distinct international domains, 254 octets",
        "distinct international domains, Greek labels",
        "unicode local parts, 64 characters",
    ),
    (5.0 * ROWS, "a new domain every row"),
)
ROUNDS = 5
TRIES = 2
HEADER = "first_name,last_name,email,organization,role,groups,language"
#: About 7 KB per row: 200 rows fill about 1.4 MiB.
LONG = 7 * 1024


def _rows(cells: list[list[str]], header: str = HEADER) -> bytes:
    out = io.StringIO()
    out.write(header + "\r\n")
    csv.writer(out, lineterminator="\r\n").writerows(cells)
    data = out.getvalue().encode("utf-8")
    if len(data) > DEFAULT_MAX_BYTES:
        raise AssertionError(f"an adversarial input is over max_bytes: {len(data)}")
    return data


def _emails(make: object) -> bytes:
    assert callable(make)
    return _rows([["Ana", "García", make(i)] for i in range(ROWS)])


def _names(prefix: str, count: int) -> str:
    """A groups cell of ``count`` distinct names."""
    return ";".join(f"{prefix}{j}" for j in range(count))


def inputs() -> dict[str, bytes]:
    """The adversarial uploads, by what they aim at."""
    accented = "é" * 60
    greek = "αβγδεζηθικλμνξοπρστυφχψω"
    return {
        "long quoted local parts": _emails(
            lambda i: '"' + f"{i}" + 'a\\"' * (LONG // 3) + '"@example.com'
        ),
        "long unquoted local parts": _emails(
            lambda i: f"{i}" + "a." * (LONG // 2) + "b@example.com"
        ),
        "many @ signs": _emails(lambda i: f"{i}" + "@" * LONG),
        "many @ between atoms": _emails(lambda i: f"{i}" + "a@" * (LONG // 2)),
        "long domain labels": _emails(lambda i: f"u@{i}" + "a" * LONG + ".com"),
        "many domain labels": _emails(lambda i: f"u@{i}" + "a." * (LONG // 2) + "com"),
        "distinct ASCII domains, 252 characters": _emails(
            lambda i: f"u@{i:03}" + "a" * 56 + "." + ".".join(["a" * 62] * 3) + ".com"
        ),
        "distinct international domains, 254 octets": _emails(
            lambda i: f"a@{i:03}" + ".".join(["bücher" + "x" * 44] * 4) + ".de"
        ),
        "distinct international domains, Greek labels": _emails(
            lambda i: f"a@x{i:03}." + ".".join([greek] * 5) + ".gr"
        ),
        "too long: accented local parts, international domains": _emails(
            lambda i: f"{accented}@{i}" + ".".join(["bücher" + "x" * 44] * 3) + ".de"
        ),
        "unicode local parts, 64 characters": _emails(
            lambda i: f"{i}" + "ñ" * (63 - len(str(i))) + f"@d{i}.example.com"
        ),
        "wide header": _rows(
            [["Ana", "García", f"user{i}@example.com"] for i in range(ROWS)],
            header=HEADER + "," * 100_000,
        ),
        "many tiny cells": _rows(
            [
                ["Ana", "García", f"user{i}@example.com", "", "", "", "", *[""] * 3000]
                for i in range(ROWS)
            ]
        ),
        "many tiny non-empty cells": _rows(
            [
                ["Ana", "García", f"user{i}@example.com", "", "", "", "", *["x"] * 1500]
                for i in range(ROWS)
            ]
        ),
        "long names": _rows(
            [
                [f"{i}" + "Ana " * (LONG // 8), "García " * (LONG // 14), f"u{i}@x.com"]
                for i in range(ROWS)
            ]
        ),
        "long organization references": _rows(
            [
                ["Ana", "García", f"u{i}@x.com", f"{i}" + "Acme / " * (LONG // 7)]
                for i in range(ROWS)
            ]
        ),
        "long group lists": _rows(
            [
                ["Ana", "García", f"u{i}@x.com", "", "", f"{i}" + "g;" * (LONG // 2)]
                for i in range(ROWS)
            ]
        ),
        "long group lists, every name distinct": _rows(
            [
                ["Ana", "García", f"u{i}@x.com", "", "", _names(f"{i}g", LONG // 8)]
                for i in range(ROWS)
            ]
        ),
        "long group lists of formula-like names": _rows(
            [
                ["Ana", "García", f"u{i}@x.com", "", "", _names(f"={i}g", LONG // 8)]
                for i in range(ROWS)
            ]
        ),
        "long roles and languages": _rows(
            [
                [
                    "Ana",
                    "García",
                    f"u{i}@x.com",
                    "",
                    f"{i}" + "r" * (LONG // 2),
                    "",
                    "e" * (LONG // 2),
                ]
                for i in range(ROWS)
            ]
        ),
    }


def floor(data: bytes) -> list[list[str]]:
    """Reading the bytes with csv.reader: the least any CSV importer does."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def preparer(data: bytes) -> functools.partial[Preview]:
    """``prepare`` of ``data`` by the admin of a small company, without arguments."""
    tree = OrgTree(
        [Organization("acme", "Acme"), Organization("sales", "Sales", "acme")]
    )
    return functools.partial(
        prepare,
        data,
        actor=Actor("acme", Role.ADMIN),
        orgs=tree,
        store=MemoryStore(),
        options=ImportOptions(),
    )


def forget_domains() -> None:
    """Empty the caches of email domains: an attacker's domains are new ones."""
    _email.clear_cache()
    schema._domain_key.cache_clear()


def figures(*, rounds: int = ROUNDS) -> list[Figure]:
    """prepare of each adversarial upload against reading it with csv.reader."""
    result = []
    for kind, data in inputs().items():
        run = preparer(data)
        run()  # the other caches warm, as on a server (header matches)
        timed = side_by_side(
            {"floor": functools.partial(floor, data), "prepare": run},
            rounds=rounds,
            tries=TRIES,
            before={"prepare": forget_domains},
        )
        ratio = timed.ratio("prepare", "floor")
        ms = timed.seconds["prepare"] * 1000
        if kind in BOUNDS:
            bound, why = BOUNDS[kind]
            target, met = f"<= {bound:,.0f} ms ({why})", ms <= bound
        else:
            target, met = f"<= {TARGET:g}x", ratio <= TARGET
        result.append(
            Figure(
                f"adversarial, {len(data) / 1024:,.0f} KiB: {kind}",
                f"{ratio:.1f}x csv.reader ({ms:.1f} ms)",
                target,
                met,
            )
        )
    return result


def main() -> int:
    """Run every measurement, print a table, return 1 if a target is missed."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
