"""Benchmark Excel workbook uploads: against CSV, against workbook libraries, and
hostile workbooks.

* ``prepare`` of a 200-row workbook (as Excel or openpyxl writes it: shared
  strings) against ``prepare`` of the same rows as CSV, side by side: the target is
  at most 10x.
* For the record, the reading libraries the reader was chosen against, when
  installed: openpyxl's read-only mode and python-calamine, reading the same
  workbook's cells (no review), against the same CSV ``prepare``.
* Hostile workbooks (the ones ``tests/test_workbook.py`` builds): each must get its
  file-level issue in under a second of CPU time, holding under 32 MB at its peak
  (tracemalloc, in a run of its own: tracing slows Python down).

Run ``python benchmarks/bench_xlsx.py``; it exits 1 if a target is missed.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from common import Figure, print_figures, side_by_side

from userimport import Actor, MemoryStore, Organization, OrgTree, prepare
from userimport.outputs import TEMPLATE_HEADERS
from userimport.reading import read_upload

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from workbooks import inline_rows, sheet_xml, workbook

ROWS = 200
TARGET = 10.0  # x the CSV prepare
ROUNDS = 7
HOSTILE_SECONDS = 1.0
HOSTILE_PEAK = 32 * 1024 * 1024
#: The English template's header, as an administrator's workbook has it.
HEADER = list(TEMPLATE_HEADERS["en"].values())
TREE = OrgTree([Organization("acme", "Acme"), Organization("es", "Spain", "acme")])
ACTOR = Actor("acme")


def _rows() -> list[list[str]]:
    return [
        HEADER,
        *(
            [
                f"Name{n}",
                f"Núñez{n}",
                f"user{n}@example.org",
                "Spain",
                "learner",
                "Sales; Onboarding",
                "es",
            ]
            for n in range(ROWS)
        ),
    ]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _excel_like_workbook(rows: list[list[str]]) -> bytes:
    """The rows as Excel saves them (texts in the shared strings table), written
    by XlsxWriter."""
    import xlsxwriter

    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        sheet = book.add_worksheet("Users")
        for number, cells in enumerate(rows):
            for column, cell in enumerate(cells):
                sheet.write_string(number, column, cell)
    return buffer.getvalue()


def _prepare(data: bytes) -> Callable[[], object]:
    return lambda: prepare(data, actor=ACTOR, orgs=TREE, store=MemoryStore())


def _libraries(data: bytes) -> dict[str, Callable[[], object]]:
    """The workbook libraries the reader was measured against, when installed."""
    found: dict[str, Callable[[], object]] = {}
    if importlib.util.find_spec("openpyxl") is not None:
        import openpyxl

        def with_openpyxl() -> object:
            book = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True
            )
            rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            book.close()
            return rows

        found["openpyxl read-only, cells only"] = with_openpyxl
    if importlib.util.find_spec("python_calamine") is not None:
        python_calamine = importlib.import_module("python_calamine")

        def with_calamine() -> object:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            return book.get_sheet_by_index(0).to_python()

        found["python-calamine, cells only"] = with_calamine
    return found


def figures_200() -> list[Figure]:
    """A 200-row workbook's prepare against the same rows' CSV prepare."""
    rows = _rows()
    data = _excel_like_workbook(rows)
    check = prepare(data, actor=ACTOR, orgs=TREE, store=MemoryStore())
    assert check.ok, check.issues
    assert ROWS == check.summary.create
    actions = {
        "csv": _prepare(_csv(rows)),
        "xlsx": _prepare(data),
        **_libraries(data),
    }
    timed = side_by_side(actions, rounds=ROUNDS)
    ratio = timed.ratio("xlsx", "csv")
    figures = [
        Figure(
            f"prepare, {ROWS}-row workbook / the same rows as CSV",
            f"{ratio:.1f}x ({timed.seconds['xlsx'] * 1000:.1f} ms / "
            f"{timed.seconds['csv'] * 1000:.1f} ms)",
            f"<= {TARGET:.0f}x",
            ratio <= TARGET,
        )
    ]
    figures.extend(
        Figure(
            f"{name} / CSV prepare (for the record)",
            f"{timed.ratio(name, 'csv'):.1f}x",
        )
        for name in actions
        if name not in ("csv", "xlsx")
    )
    return figures


def _hostile() -> dict[str, bytes]:
    rows = inline_rows([["Email", "First name", "Last name"], ["a@x.org", "A", "B"]])
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
            for n in range(1, 10)
        )
        + "]>"
        + sheet_xml('<row r="1"><c t="inlineStr"><is><t>&lol9;</t></is></c></row>')
    )
    whole = workbook(sheet_xml(rows))
    return {
        "zip bomb (18 MB of rows in 20 KB)": workbook(sheet_xml("<row/>" * 3_000_000)),
        "billion laughs": workbook(laughs),
        "a 1,048,576-row sheet": workbook(
            sheet_xml(
                "<row/>" * 1_048_575
                + '<row><c t="inlineStr"><is><t>Email</t></is></c></row>'
            )
        ),
        "cells at A1 and XFD1048576": workbook(
            sheet_xml(
                '<row r="1"><c r="A1"><v>1</v></c></row>'
                '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
            )
        ),
        "a 10 MB cell": workbook(
            sheet_xml(
                '<row r="1"><c t="inlineStr"><is><t>'
                + "a" * 10_000_000
                + "</t></is></c></row>"
            )
        ),
        "a 10 MB shared string": workbook(
            sheet_xml('<row r="1"><c t="s"><v>0</v></c></row>'),
            shared_strings=(
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<si><t>" + "a" * 10_000_000 + "</t></si></sst>"
            ),
        ),
        "a corrupt zip": whole[: len(whole) // 2],
    }


def figures_hostile() -> list[Figure]:
    """Each hostile workbook's CPU time and peak memory to its issue."""
    figures = []
    for name, data in _hostile().items():
        times = []
        for _ in range(3):
            started = time.process_time()
            upload = read_upload(data)
            times.append(time.process_time() - started)
        assert not upload.ok, name
        tracemalloc.start()
        try:
            read_upload(data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        seconds = statistics.median(times)
        figures.append(
            Figure(
                f"hostile workbook: {name} ({upload.issues[0].code.value})",
                f"{seconds * 1000:.0f} ms, peak {peak / 1024 / 1024:.1f} MiB",
                f"< {HOSTILE_SECONDS:.0f} s, < {HOSTILE_PEAK // 1024 // 1024} MiB",
                seconds < HOSTILE_SECONDS and peak < HOSTILE_PEAK,
            )
        )
    return figures


def figures() -> list[Figure]:
    """Every figure of this benchmark."""
    return [*figures_200(), *figures_hostile()]


if __name__ == "__main__":
    sys.exit(print_figures(figures()))
