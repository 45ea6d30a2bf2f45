"""Benchmark ``prepare``, the whole review of an upload, against its targets.

Everything runs in one process on the uploads of ``bench_validation`` (a Spanish
company: UTF-8 with BOM, Spanish headers, accented names, two organizations named
by name or path, roles, groups and languages in a few spellings):

1. ``prepare`` of 200 rows with a MemoryStore holding 1,000 other users of the
   company, against the floor (bytes -> ``csv.reader`` + a regex email check), timed
   side by side (target: 6x); also its first half, reading and validation
   (``read_records`` + one ``RowValidator`` and duplicates, as ``prepare`` runs
   them; target: 4x), the same with the public ``read_upload`` + ``validate_values``
   (a ``Record`` and a new validator per row), and the naive pipeline
   (``csv.DictReader`` + ``email_validator`` per row).

   Caches: userimport validates each email domain once per process (a bounded,
   thread-safe cache); every other repeated value is parsed once per upload.
   *Warm* runs keep the domains from the previous run, as a server does that
   imports files of the same company; *cold* runs clear them first, as the first
   import after a restart. The targets are judged warm; cold figures are shown
   beside them.
2. frictionless-py validating the same bytes against an equivalent Table Schema
   (the seven columns, required names and email, email format, name length, role
   enum, language pattern), timed side by side with ``prepare``. frictionless is a
   benchmark-only dependency (the ``bench`` dependency group); without it the line
   says so and sets no target.
3. A 100 MB upload stream: ``prepare`` reads at most ``max_bytes + 1`` bytes of it
   (target: ``max_bytes`` + 64 KiB) and its peak traced memory (``tracemalloc``)
   grows by at most 16 MiB.
4. The row limit lifted (``max_rows=None``): ``prepare`` of 100,000 rows, in rows
   per second of CPU time (target: 30,000), and the peak traced memory per row at
   10,000 and 100,000 rows, which must stay within 25% of each other (linear).

Run ``python benchmarks/bench_prepare.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import functools
import importlib
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from bench_validation import (
    HEADER,
    ORGANIZATION_REFS,
    floor,
    naive,
    upload,
    userimport_fields,
    userimport_read,
)
from common import Figure, print_figures, side_by_side

from userimport import (
    Actor,
    ImportOptions,
    IssueCode,
    MemoryStore,
    Organization,
    OrgTree,
    Preview,
    Role,
    StoredUser,
    _email,
    prepare,
    reading,
    revise,
)
from userimport.validation import MAX_NAME_LENGTH, ROLE_ALIASES

ROWS = 200
ROUNDS = 25
TRIES = 3
PREPARE_TARGET = 6.0  # x the floor
READ_VALIDATE_TARGET = 4.0  # x the floor
REVISE_TARGET = 1.0  # x prepare of the same upload
FRICTIONLESS_ROUNDS = 7
FRICTIONLESS_TARGET = 10.0  # prepare at least this many times faster
STREAM_SIZE = 100 * 1024 * 1024
STREAM_SLACK = 64 * 1024  # bytes read beyond max_bytes
STREAM_MEMORY = 16 * 1024 * 1024  # peak traced memory growth
BULK_ROWS = 100_000
SMALL_BULK_ROWS = 10_000
BULK_TRIES = 3
BULK_TARGET = 30_000  # rows per second
LINEAR_TOLERANCE = 1.25  # bytes per row at 100k / at 10k, either way

FLOOR = "floor"
PREPARE_WARM = "prepare, warm"
PREPARE_COLD = "prepare, cold"
READ_VALIDATE = "read_records + RowValidator, warm"
READ_VALIDATE_PUBLIC = "read_upload + validate_values, warm"
NAIVE = "naive"


def company() -> tuple[Actor, OrgTree, MemoryStore]:
    """The importing admin, the company's organizations and its 1,000 other users."""
    orgs = [Organization("acme", "Acme")]
    orgs += [Organization(f"dept{n}", f"Department {n}", "acme") for n in range(100)]
    for number, ref in enumerate(ORGANIZATION_REFS):
        # "Ventas" and "Acme / Madrid" name organizations right under the root.
        orgs.append(Organization(f"org{number}", ref.split(" / ")[-1], "acme"))
    users = [
        StoredUser(
            id=str(n),
            email=f"staff{n}@acme.es",
            first_name="Staff",
            last_name=f"Member {n}",
            organization=f"dept{n % 100}",
        )
        for n in range(1000)
    ]
    return Actor("acme", Role.ADMIN), OrgTree(orgs), MemoryStore(users)


def clear_caches() -> None:
    """Forget everything userimport caches across uploads (a fresh process)."""
    _email.clear_cache()
    reading._cached_column.cache_clear()


def preparer(
    data: bytes, options: ImportOptions | None = None
) -> Callable[[], Preview]:
    """``prepare`` of ``data`` by the company's admin, as a call without arguments."""
    actor, orgs, store = company()
    return functools.partial(
        prepare, data, actor=actor, orgs=orgs, store=store, options=options
    )


def check(preview: Preview, rows: int) -> None:
    """Fail loudly if the benchmark's upload does not review as every row created."""
    summary = preview.summary
    if (summary.total, summary.create) != (rows, rows):
        raise AssertionError(f"unexpected review: {summary}, {preview.issues[:3]}")


def figures_200(*, rounds: int = ROUNDS) -> list[Figure]:
    """prepare, read + validate and the naive pipeline against the floor."""
    data = upload()
    run = preparer(data)
    check(run(), ROWS)
    timed = side_by_side(
        {
            FLOOR: functools.partial(floor, data),
            PREPARE_WARM: run,
            PREPARE_COLD: run,
            READ_VALIDATE: functools.partial(userimport_fields, data),
            READ_VALIDATE_PUBLIC: functools.partial(userimport_read, data),
            NAIVE: functools.partial(naive, data),
        },
        rounds=rounds,
        tries=TRIES,
        before={PREPARE_COLD: clear_caches},
    )

    def ratio(name: str, measure: str, *, target: float | None = None) -> Figure:
        value = timed.ratio(name, FLOOR)
        return Figure(
            measure,
            f"{value:.2f}x the floor",
            f"<= {target:g}x" if target is not None else "",
            value <= target if target is not None else None,
        )

    return [
        Figure(
            f"floor: bytes -> csv.reader + regex email check, {ROWS} rows",
            f"{timed.seconds[FLOOR] * 1e3:.3f} ms CPU",
        ),
        ratio(
            PREPARE_WARM,
            f"prepare, {ROWS} rows, MemoryStore (warm caches)",
            target=PREPARE_TARGET,
        ),
        ratio(PREPARE_COLD, "prepare, same, cold caches (first import)"),
        ratio(
            READ_VALIDATE,
            "  of which reading + validation, warm caches",
            target=READ_VALIDATE_TARGET,
        ),
        ratio(
            READ_VALIDATE_PUBLIC,
            "  the same with read_upload + validate_values (objects per row)",
        ),
        ratio(NAIVE, "naive: csv.DictReader + email_validator"),
    ]


def frictionless_schema() -> dict[str, Any]:
    """A Table Schema equivalent to userimport's rules for the upload's columns."""
    names, email, organization, role, groups, language = (
        HEADER[:2],
        HEADER[2],
        HEADER[3],
        HEADER[4],
        HEADER[5],
        HEADER[6],
    )
    name_rules = {"required": True, "maxLength": MAX_NAME_LENGTH}
    roles = sorted(
        {spelling for alias in ROLE_ALIASES for spelling in (alias, alias.title())}
    )
    return {
        "fields": [
            *(
                {"name": name, "type": "string", "constraints": name_rules}
                for name in names
            ),
            {
                "name": email,
                "type": "string",
                "format": "email",
                "constraints": {"required": True},
            },
            {"name": organization, "type": "string"},
            {"name": role, "type": "string", "constraints": {"enum": roles}},
            {"name": groups, "type": "string"},
            {
                "name": language,
                "type": "string",
                "constraints": {"pattern": "[A-Za-z]{2}([-_]([A-Za-z]{2}|[0-9]{3}))?"},
            },
        ]
    }


def frictionless_validator(data: bytes) -> Callable[[], Any] | None:
    """A call that validates ``data`` with frictionless, or None if not installed."""
    try:
        frictionless = importlib.import_module("frictionless")
    except ImportError:
        return None
    schema = frictionless.Schema.from_descriptor(frictionless_schema())

    def validate() -> Any:
        resource = frictionless.Resource(
            data=data, format="csv", encoding="utf-8-sig", schema=schema
        )
        return resource.validate()

    return validate


def figures_revise(*, rounds: int = ROUNDS) -> list[Figure]:
    """``revise`` of a 200-row review with one edit, against ``prepare`` of it."""
    data = upload()
    actor, orgs, store = company()
    preview = prepare(data, actor=actor, orgs=orgs, store=store)
    check(preview, ROWS)
    edits = {5: {"first_name": "Edited"}}
    timed = side_by_side(
        {
            "prepare": functools.partial(
                prepare, data, actor=actor, orgs=orgs, store=store
            ),
            "revise": functools.partial(
                revise, preview, edits=edits, actor=actor, orgs=orgs, store=store
            ),
        },
        rounds=rounds,
        tries=TRIES,
    )
    ratio = timed.ratio("revise", "prepare")
    return [
        Figure(
            f"revise of a {ROWS}-row review (one edit), vs prepare of the upload",
            f"{ratio:.2f}x",
            f"<= {REVISE_TARGET:g}x",
            ratio <= REVISE_TARGET,
        )
    ]


def figures_frictionless(*, rounds: int = FRICTIONLESS_ROUNDS) -> list[Figure]:
    """frictionless-py's validation of the same file, side by side with prepare."""
    data = upload()
    validate = frictionless_validator(data)
    measure = "frictionless-py validating the same file, vs prepare"
    if validate is None:
        return [Figure(measure, "not installed (pip install --group bench)")]
    report = validate()
    rows = report.tasks[0].stats["rows"]
    if not report.valid or rows != ROWS:
        raise AssertionError(f"frictionless read {rows} rows, valid={report.valid}")
    run = preparer(data)
    run()
    timed = side_by_side({"prepare": run, "frictionless": validate}, rounds=rounds)
    speedup = timed.ratio("frictionless", "prepare")
    return [
        Figure(
            measure,
            f"prepare {speedup:.1f}x faster",
            f">= {FRICTIONLESS_TARGET:g}x faster",
            speedup >= FRICTIONLESS_TARGET,
        )
    ]


class EndlessUpload:
    """A binary stream of ``size`` bytes of CSV rows, made as it is read.

    Attributes:
        read_bytes: How many bytes the stream has handed out so far.
    """

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = upload(rows=2_000)
        self.read_bytes = 0

    def read(self, size: int = -1, /) -> bytes:
        """At most ``size`` bytes (one block at most); ``b""`` at the end."""
        size = len(self._block) if size < 0 else size
        chunk = self._block[: min(size, self._left, len(self._block))]
        self._left -= len(chunk)
        self.read_bytes += len(chunk)
        return chunk


def figures_stream() -> list[Figure]:
    """A 100 MB stream through prepare: bytes read and peak memory growth."""
    options = ImportOptions()
    stream = EndlessUpload(STREAM_SIZE)
    actor, orgs, store = company()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        preview = prepare(stream, actor=actor, orgs=orgs, store=store, options=options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if [issue.code for issue in preview.issues] != [IssueCode.FILE_TOO_LARGE]:
        raise AssertionError(f"unexpected review of the stream: {preview.issues}")
    growth = peak - before
    limit = options.max_bytes + STREAM_SLACK
    return [
        Figure(
            "100 MB upload stream: bytes read",
            f"{stream.read_bytes:,} B",
            f"<= max_bytes + 64 KiB ({limit:,} B)",
            stream.read_bytes <= limit,
        ),
        Figure(
            "100 MB upload stream: peak memory growth (tracemalloc)",
            f"{growth / 2**20:.1f} MiB",
            f"<= {STREAM_MEMORY / 2**20:g} MiB",
            growth <= STREAM_MEMORY,
        ),
    ]


def bulk_options(data: bytes) -> ImportOptions:
    """No row limit, and a byte limit that lets the whole upload in."""
    return ImportOptions(max_rows=None, max_bytes=len(data))


def peak_bytes(data: bytes) -> int:
    """The peak traced memory of ``prepare(data)`` beyond what was there before."""
    run = preparer(data, bulk_options(data))
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def figures_bulk(*, tries: int = BULK_TRIES) -> list[Figure]:
    """The row limit lifted: rows per second and memory per row."""
    data = upload(rows=BULK_ROWS)
    run = preparer(data, bulk_options(data))
    check(run(), BULK_ROWS)
    seconds = []
    for _ in range(tries):
        start = time.process_time_ns()
        run()
        seconds.append((time.process_time_ns() - start) / 1e9)
    rate = BULK_ROWS / statistics.median(seconds)
    small = peak_bytes(upload(rows=SMALL_BULK_ROWS)) / SMALL_BULK_ROWS
    large = peak_bytes(data) / BULK_ROWS
    growth = large / small
    linear = 1 / LINEAR_TOLERANCE <= growth <= LINEAR_TOLERANCE
    return [
        Figure(
            f"prepare, {BULK_ROWS:,} rows, max_rows=None",
            f"{rate:,.0f} rows/s CPU",
            f">= {BULK_TARGET:,} rows/s",
            rate >= BULK_TARGET,
        ),
        Figure(
            "  peak memory per row (tracemalloc), 10,000 / 100,000 rows",
            f"{small:,.0f} / {large:,.0f} B",
            f"linear: ratio within {LINEAR_TOLERANCE:g}x",
            linear,
        ),
    ]


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [
        *figures_200(),
        *figures_frictionless(),
        *figures_stream(),
        *figures_bulk(),
    ]


def main() -> int:
    """Run every measurement, print the table; 1 if a target is missed."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
