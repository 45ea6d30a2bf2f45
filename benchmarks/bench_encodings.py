"""Encoding detection on the Faker corpus: how many files read exactly, by encoding
and size, beside chardet and charset-normalizer on the same bytes.

A file reads exactly when the decoded text is the text that was written (the name
of the codec does not matter: cp1252 and cp1250 read "José;Müller" alike). The
targets: every legacy file reads exactly, no UTF-8 or ASCII file warns, and the
``encoding_guessed`` warning of legacy files is rare (a close call, not a habit).

Detection must also be cheap beside the review: ``prepare`` of a 200-row legacy
file of each encoding costs at most 1.5x ``prepare`` of the same rows in UTF-8
(timed side by side, in CPU time: ``benchmarks/common.py``).

``python benchmarks/bench_encodings.py`` prints the table (``--peers`` adds
chardet and charset-normalizer, which take a minute); ``figures()`` gives the
targets for ``benchmarks/run.py``. The corpus is ``encoding_corpus.py``.
"""

from __future__ import annotations

import functools
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable

from bench_prepare import company
from common import Figure, format_table, side_by_side
from encoding_corpus import (
    LOCALES,
    SIZES,
    Sample,
    legacy_samples,
    locale_samples,
    unicode_samples,
)

from userimport import prepare
from userimport.decoding import Decoded, decode

#: ``prepare`` of a 200-row legacy file / of the same rows in UTF-8, at most.
SPEED_TARGET = 1.5
SPEED_ROUNDS = 15

#: A detector: the file's bytes -> its text (``None`` when it gives up), warned.
Detector = Callable[[bytes], tuple[str | None, bool]]


def userimport_detector(data: bytes) -> tuple[str | None, bool]:
    """userimport.decoding.decode: its text and whether it warned."""
    decoded = decode(data)
    if not isinstance(decoded, Decoded):
        return None, False
    return decoded.text, bool(decoded.warnings)


def chardet_detector(data: bytes) -> tuple[str | None, bool]:
    """chardet.detect's encoding, decoded strictly."""
    import chardet

    name = chardet.detect(data)["encoding"]
    return _strict(data, name), False


def charset_normalizer_detector(data: bytes) -> tuple[str | None, bool]:
    """charset-normalizer's best guess (its own decoding)."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return (None if best is None else str(best)), False


def _strict(data: bytes, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return data.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None


def _group(sample: Sample) -> str:
    if sample.kind in ("utf-8", "utf-8-sig", "ascii"):
        return sample.kind
    return sample.encoding


def evaluate(
    detector: Detector, samples: Iterable[Sample]
) -> dict[tuple[str, int], tuple[int, int, int]]:
    """``(group, rows) -> (files, read exactly, warned)``."""
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for sample in samples:
        text, warned = detector(sample.data)
        expected = sample.text
        if sample.kind == "utf-8-sig" and text is not None:
            text = text.removeprefix("\ufeff")
            expected = expected.removeprefix("\ufeff")
        entry = counts[_group(sample), sample.rows]
        entry[0] += 1
        entry[1] += text == expected
        entry[2] += warned
    return {key: (a, b, c) for key, (a, b, c) in counts.items()}


def table(results: dict[str, dict[tuple[str, int], tuple[int, int, int]]]) -> str:
    """Accuracy per encoding and size, one column per detector (warnings beside
    userimport's)."""
    groups = sorted({group for result in results.values() for group, _ in result})
    header = ["encoding", *[f"{rows} rows" for rows in SIZES], "all"]
    lines = []
    for name, result in results.items():
        lines.append([f"**{name}**"] + [""] * (len(header) - 1))
        for group in groups:
            row = [group]
            total = [0, 0, 0]
            for rows in SIZES:
                files, exact, warned = result.get((group, rows), (0, 0, 0))
                total = [total[0] + files, total[1] + exact, total[2] + warned]
                row.append(_cell(files, exact, warned))
            row.append(_cell(*total))
            lines.append(row)
    widths = [
        max(len(line[i]) for line in [header, *lines]) for i in range(len(header))
    ]
    rendered = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in [header, *lines]
    ]
    rendered.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(rendered)


def _cell(files: int, exact: int, warned: int) -> str:
    if not files:
        return "-"
    cell = f"{100 * exact / files:.0f}% of {files}"
    return f"{cell}, {warned} warned" if warned else cell


def figures() -> list[Figure]:
    """The targets: every legacy file exact, no warning on UTF-8 or ASCII."""
    legacy = evaluate(userimport_detector, legacy_samples())
    unicode = evaluate(userimport_detector, unicode_samples())
    files = sum(f for f, _, _ in legacy.values())
    exact = sum(e for _, e, _ in legacy.values())
    warned = sum(w for _, _, w in legacy.values())
    unicode_warned = sum(w for _, _, w in unicode.values())
    unicode_exact = sum(e for _, e, _ in unicode.values())
    unicode_files = sum(f for f, _, _ in unicode.values())
    return [
        Figure(
            f"encodings: {files} legacy files (40 locales) read exactly",
            f"{100 * exact / files:.1f}% ({files - exact} wrong)",
            "100%",
            exact == files,
        ),
        Figure(
            "encodings: legacy files with the close-call warning",
            f"{100 * warned / files:.1f}% ({warned})",
        ),
        Figure(
            f"encodings: {unicode_files} UTF-8 and ASCII files exact, without warning",
            f"{unicode_exact} exact, {unicode_warned} warned",
            "all exact, 0 warned",
            unicode_exact == unicode_files and unicode_warned == 0,
        ),
    ]


def speed_figures(*, rounds: int = SPEED_ROUNDS) -> list[Figure]:
    """``prepare`` of a 200-row file of each legacy encoding (the first locale of
    the corpus written in it) against ``prepare`` of the same rows in UTF-8."""
    actor, orgs, store = company()
    files: dict[str, Sample] = {}
    for locale, encoding in LOCALES.items():
        if encoding not in files:
            files[encoding] = next(
                s for s in locale_samples(locale, encoding) if s.rows == 200
            )
    actions: dict[str, Callable[[], object]] = {}
    for encoding, sample in files.items():
        for name, data in ((encoding, sample.data), (f"{encoding} as UTF-8", None)):
            payload = sample.text.encode() if data is None else data
            actions[name] = functools.partial(
                prepare, payload, actor=actor, orgs=orgs, store=store
            )
        actions[f"{encoding} detection"] = functools.partial(decode, sample.data)
    decode("Jos\u00e9".encode("cp1252"))  # chardet's one-time warm-up
    timed = side_by_side(actions, rounds=rounds)
    ratios = {e: timed.ratio(e, f"{e} as UTF-8") for e in files}
    worst = max(ratios, key=ratios.__getitem__)
    detection = {e: timed.ratio(f"{e} detection", f"{e} as UTF-8") for e in files}
    return [
        Figure(
            "encodings: prepare of a 200-row legacy file / the same rows in UTF-8,"
            " worst encoding",
            f"{ratios[worst]:.2f}x ({worst})",
            f"<= {SPEED_TARGET:g}x",
            ratios[worst] <= SPEED_TARGET,
        ),
        Figure(
            "  each encoding",
            ", ".join(f"{e} {r:.2f}x" for e, r in ratios.items()),
        ),
        Figure(
            "  of which detection (decode of the legacy file) / prepare in UTF-8",
            f"{min(detection.values()):.2f}-{max(detection.values()):.2f}x",
        ),
    ]


def main(argv: list[str]) -> int:
    """Print the accuracy table; 1 if a target is missed."""
    detectors: dict[str, Detector] = {"userimport": userimport_detector}
    if "--peers" in argv:
        detectors["chardet.detect"] = chardet_detector
        detectors["charset-normalizer"] = charset_normalizer_detector
    samples = [*legacy_samples(), *unicode_samples()]
    results = {name: evaluate(d, samples) for name, d in detectors.items()}
    print(table(results))
    print()
    result = figures() + speed_figures()
    print(format_table(result))
    return 1 if any(f.met is False for f in result) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
