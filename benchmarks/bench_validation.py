"""Benchmark row validation against its target: at most 4x the floor.

All pipelines run in one process on the same generated 200-row upload of a realistic
company (UTF-8 with BOM, as Excel's "CSV UTF-8" writes it; most users share two
domains, a third of the names are accented, a few local parts are not ASCII):

1. floor: bytes -> ``csv.reader`` + a regular-expression email check;
2. naive: ``csv.DictReader`` + ``email_validator.validate_email`` per row;
3. ``csv.reader`` + :func:`~userimport.validation.validate_values` per row and
   :func:`~userimport.validation.duplicate_email_issues`;
4. :func:`userimport.reading.read_upload` + the same validation (the whole of
   reading and validating).

"Cold" runs clear the cache of validated email domains first, so each pays for
validating the file's domains as a fresh process would; "warm" runs keep it, as a
long-running server does after its first import. One more line shows the cost of
addresses whose local part is not ASCII, which email-validator checks in full. Run
``python benchmarks/bench_validation.py``; it exits 1 if 3 (cold) takes more than 4x
the floor. ``benchmarks/run.py`` uses its upload and pipelines.
"""

from __future__ import annotations

import csv
import functools
import io
import random
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from common import Figure, print_figures, side_by_side
from email_validator import EmailNotValidError, validate_email

from userimport import _email
from userimport.reading import read_records, read_upload
from userimport.schema import column_for_header
from userimport.validation import RowValidator, duplicate_email_issues, validate_values

ROWS = 200
ROUNDS = 25
TRIES = 3
TARGET = 4.0
UNICODE_LOCAL_PARTS = 4
FLOOR = "floor: csv.reader + regex"
GATED = "csv.reader + validate_values, cold"

FIRST = ["Ana", "José", "María", "Lucía", "Jorge", "Núñez", "Sofía", "Pablo", "Iñigo"]
FIRST += ["Carmen", "David", "Elena", "Óscar", "Raúl", "Laura", "Marta", "Juan"]
LAST = ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Díaz", "Ruiz"]
LAST += ["Moreno", "Álvarez", "Romero", "Navarro", "Torres", "Domínguez", "Gil"]
DOMAINS = ["acme.es"] * 14 + ["acme.com"] * 5 + ["acme-group.eu"]
ROLES = [""] * 14 + ["learner", "instructor", "manager", "Estudiante", "admin"]
GROUPS = ["", "", "Ventas", "Ventas;Madrid", "Marketing", "IT; Soporte", "RRHH"]
LANGUAGES = ["", "", "es", "es-ES", "en", "ca"]
EMAIL_CHECK = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters of *text*, as most mail systems make local parts."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


#: The upload's header, as a Spanish administrator writes it.
HEADER = (
    "Nombre",
    "Apellidos",
    "Correo electrónico",
    "Organización",
    "Rol",
    "Grupos",
    "Idioma",
)
#: The organizations the upload names (besides "", the importer's own).
ORGANIZATION_REFS = ("Ventas", "Acme / Madrid")


def upload(seed: int = 2, *, rows: int = ROWS, unicode_local_parts: int = 0) -> bytes:
    """An upload of a Spanish company, as Excel's "CSV UTF-8" saves it.

    Local parts are the names folded to ASCII, as corporate mail systems make them;
    ``unicode_local_parts`` of them keep their accents instead. Emails are unique;
    organizations are "", or one of ``ORGANIZATION_REFS``.
    """
    rng = random.Random(seed)
    lines = [",".join(HEADER)]
    for i in range(rows):
        first, last = rng.choice(FIRST), f"{rng.choice(LAST)} {rng.choice(LAST)}"
        local = f"{ascii_fold(first)}.{ascii_fold(last.split()[0])}{i}"
        if i < unicode_local_parts:
            local = f"{first.lower()}ñ.{i}"  # not ASCII: email-validator decides
        organization = rng.choice(["", "", "", *ORGANIZATION_REFS])
        cells = [first, last, f"{local}@{rng.choice(DOMAINS)}", organization]
        cells += [rng.choice(ROLES), rng.choice(GROUPS), rng.choice(LANGUAGES)]
        lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def floor(data: bytes) -> int:
    """bytes -> csv.reader + a regular-expression email check."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)
    return sum(1 for row in reader if EMAIL_CHECK.fullmatch(row[2].strip()))


def naive(data: bytes) -> int:
    """csv.DictReader + email_validator per row."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    valid = 0
    for row in reader:
        try:
            validate_email(row["Correo electrónico"], check_deliverability=False)
        except EmailNotValidError:
            continue
        valid += 1
    return valid


def validate_rows(rows: Iterable[tuple[int, Mapping[str, str]]]) -> int:
    """validate_values per row, then duplicates by key; the count of valid rows."""
    keys: list[tuple[int, str, str]] = []
    for number, values in rows:
        user, _ = validate_values(values, row=number)
        if user is not None:
            keys.append((number, user.key, user.email))
    return len(keys) - len(duplicate_email_issues(keys))


def userimport_csv(data: bytes) -> int:
    """bytes -> csv.reader + validate_values (userimport's validation alone)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    # Unknown columns map to "", which validate_values ignores.
    header = [column_for_header(cell) or "" for cell in next(reader)]
    return validate_rows(
        (number, dict(zip(header, row, strict=False)))
        for number, row in enumerate(reader, start=2)
    )


def userimport_read(data: bytes) -> int:
    """read_upload + validate_values (userimport's reading and validation)."""
    return validate_rows(
        (record.row, record.values) for record in read_upload(data).records
    )


def userimport_fields(data: bytes) -> int:
    """read_records + one RowValidator for the upload: reading and validation as
    prepare runs them (no Record per row; each distinct optional cell parsed once)."""
    validator = RowValidator()
    keys: list[tuple[int, str, str]] = []
    for number, values, _ in read_records(data)[1]:
        user, _ = validator.validate(values, row=number)
        if user is not None:
            keys.append((number, user.key, user.email))
    return len(keys) - len(duplicate_email_issues(keys))


def cold(pipeline: Callable[[bytes], int]) -> Callable[[bytes], int]:
    """*pipeline* run from empty caches."""

    def run(data: bytes) -> int:
        _email.clear_cache()
        return pipeline(data)

    return run


def figures(*, rounds: int = ROUNDS) -> list[Figure]:
    """Time every pipeline side by side; each as a ratio to the floor."""
    data = upload()
    unicode_data = upload(unicode_local_parts=UNICODE_LOCAL_PARTS)
    pipelines: dict[str, tuple[Callable[[bytes], int], bytes]] = {
        FLOOR: (floor, data),
        "naive: DictReader + email_validator": (naive, data),
        GATED: (cold(userimport_csv), data),
        "csv.reader + validate_values, warm": (userimport_csv, data),
        "read_upload + validate_values, cold": (cold(userimport_read), data),
        "read_upload + validate_values, warm": (userimport_read, data),
        f"same, {UNICODE_LOCAL_PARTS} non-ASCII local parts, warm": (
            userimport_read,
            unicode_data,
        ),
    }
    valid = {name: run(data) for name, (run, data) in pipelines.items()}  # warm-up
    assert set(valid.values()) == {ROWS}, valid
    timed = side_by_side(
        {name: functools.partial(run, data) for name, (run, data) in pipelines.items()},
        rounds=rounds,
        tries=TRIES,
    )
    result = [
        Figure(
            f"{FLOOR}, {ROWS} rows ({len(data):,} bytes)",
            f"{timed.seconds[FLOOR] * 1e3:.3f} ms CPU",
        )
    ]
    for name in pipelines:
        if name == FLOOR:
            continue
        ratio = timed.ratio(name, FLOOR)
        gated = name == GATED
        result.append(
            Figure(
                name,
                f"{ratio:.2f}x the floor",
                f"<= {TARGET:g}x" if gated else "",
                ratio <= TARGET if gated else None,
            )
        )
    return result


def main() -> int:
    """Time every pipeline, print the table; 1 if over the target."""
    return print_figures(figures())


if __name__ == "__main__":
    sys.exit(main())
