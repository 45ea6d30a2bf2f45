"""Benchmark reading an upload: encoding detection and read_upload .

Everything runs in one process, side by side, each figure the median of several
runs in CPU time (``benchmarks/common.py``):

1. :func:`userimport.decoding.decode` on 2 MiB of adversarial bytes of several
   kinds (random high bytes, mostly ASCII with scattered high bytes, cp1252-like
   text, Shift JIS text spoiled at the very end so every candidate decodes almost
   all of it), against the 50 ms target;
2. :func:`userimport.reading.read_upload` on a 200-row UTF-8 file, against the
   floor (``bytes.decode`` + ``csv.reader``) and against the earlier floor, which adds
   a regular-expression email check per row (shown for information: the target is
   on the whole of ``prepare``, in ``bench_prepare.py``);
3. ``read_upload(..., max_rows=None)`` on 100,000 rows, in rows per second
   (information; the target is on ``prepare``).

The first chardet call of a process loads its models (about 90 ms); it is made once
before timing, as a server makes it on its first upload. Run
``python benchmarks/bench_reading.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
import statistics
import sys
import time

from common import Figure, print_figures, side_by_side

from userimport.decoding import Decoded, decode
from userimport.reading import read_upload

DETECT_BYTES = 2 * 1024 * 1024
DETECT_TARGET_MS = 50.0
READ_ROWS = 200
BULK_ROWS = 100_000
REPEATS = 7

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def adversarial_inputs() -> dict[str, bytes]:
    """2 MiB inputs that make encoding detection work hard, by kind."""
    rng = random.Random(2)
    size = DETECT_BYTES
    scattered = bytearray(rng.randrange(0x20, 0x7F) for _ in range(size))
    for index in rng.sample(range(size), size // 100):
        scattered[index] = rng.randrange(0x80, 0x100)
    western = ["José", "Müller", "Núñez", "Øyvind", "François", "Åsa", "Gonçalves"]
    cp1252_text = "".join(
        f"{rng.choice(western)};{rng.choice(western)};user{i}@example.com\r\n"
        for i in range(size // 30)
    ).encode("cp1252")[:size]
    sjis_line = "山田;太郎;yamada@example.jp;営業部\r\n"
    return {
        "random high bytes": bytes(rng.randrange(0x80, 0x100) for _ in range(size)),
        "ASCII, 1% scattered high bytes": bytes(scattered),
        "cp1252-like text": cp1252_text,
        "Shift JIS, bad last byte": (sjis_line * (size // (2 * len(sjis_line)))).encode(
            "shift_jis"
        )[: size - 1]
        + b"\xff",
        "ASCII, one high byte at the end": b"a" * (size - 1) + b"\xe9",
    }


def users_csv(rows: int) -> bytes:
    """A realistic UTF-8 upload: the template's columns, accented names."""
    first = ["Ana", "José", "María", "Lucía", "Jorge", "Sofía", "Pablo", "Iñigo"]
    last = ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Díaz"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "first_name",
            "last_name",
            "email",
            "organization",
            "role",
            "groups",
            "language",
        ]
    )
    for i in range(rows):
        writer.writerow(
            [
                first[i % len(first)],
                last[i % len(last)],
                f"user{i}@example.com",
                "",
                "learner",
                "Sales;Support",
                "es",
            ]
        )
    return out.getvalue().encode()


def floor(data: bytes) -> list[list[str]]:
    """The least any reader does: decode and split into records."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def floor_with_regex(data: bytes) -> int:
    """Issue 2's floor: decode, split, and check each email with a regex."""
    return sum(1 for row in floor(data)[1:] if EMAIL.fullmatch(row[2]))


def figures_detection(*, rounds: int = REPEATS) -> list[Figure]:
    """Encoding detection on each kind of adversarial input, against 50 ms."""
    decode("Jos\u00e9".encode("cp1252"))  # chardet's one-time warm-up
    inputs = adversarial_inputs()
    timed = side_by_side(
        {kind: functools.partial(decode, data) for kind, data in inputs.items()},
        rounds=rounds,
        tries=1,
    )
    result = []
    for kind, data in inputs.items():
        decoded = decode(data)
        answer = decoded.encoding if isinstance(decoded, Decoded) else "undecodable"
        ms = timed.seconds[kind] * 1000
        result.append(
            Figure(
                f"encoding detection, 2 MiB: {kind} -> {answer}",
                f"{ms:.1f} ms CPU",
                f"<= {DETECT_TARGET_MS:g} ms",
                ms <= DETECT_TARGET_MS,
            )
        )
    return result


def figures_read(*, rounds: int = 25) -> list[Figure]:
    """read_upload of 200 rows against the floors (information)."""
    upload = users_csv(READ_ROWS)
    timed = side_by_side(
        {
            "floor": functools.partial(floor, upload),
            "regex": functools.partial(floor_with_regex, upload),
            "read": functools.partial(read_upload, upload),
        },
        rounds=rounds,
    )
    return [
        Figure(
            f"read_upload, {READ_ROWS} rows",
            f"{timed.ratio('read', 'floor'):.2f}x decode + csv.reader,"
            f" {timed.ratio('read', 'regex'):.2f}x the floor",
        )
    ]


def figures_bulk(*, tries: int = 3) -> list[Figure]:
    """read_upload of 100,000 rows without the row limit (information)."""
    bulk = users_csv(BULK_ROWS)
    seconds = []
    for _ in range(tries):
        start = time.process_time()
        read_upload(bulk, max_rows=None, max_bytes=len(bulk))
        seconds.append(time.process_time() - start)
    rate = BULK_ROWS / statistics.median(seconds)
    return [
        Figure(f"read_upload, {BULK_ROWS:,} rows, max_rows=None", f"{rate:,.0f} rows/s")
    ]


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [*figures_detection(), *figures_read(), *figures_bulk()]


def main() -> int:
    """Run every measurement, print a table, return 1 if a target is missed."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
