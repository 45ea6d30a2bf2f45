"""The command line in another language: with ``--lang es`` every sentence it
shows a person (the review's words, the summaries, the prompts, the one-line
errors, the tables' headers, the help) is said in Spanish, and what a script reads
(the template's bytes, the database, the exit status) is the same in every
language."""

from __future__ import annotations

import io
import shutil
import sqlite3
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from english_left import english_left
from userimport import _workbook, cli
from userimport.cli import _commands
from userimport.cli._parser import build_parser, chosen_language

EXAMPLES = Path(__file__).parent.parent / "examples"
HEADER = "first_name,last_name,email,organization,role,groups,language"

#: The files every scenario finds in its folder (users files with Spanish names,
#: so that what stays as it is holds no English word).
FILES = {
    "clean.csv": [
        HEADER,
        "Ana,Gil,ana@acme.example,,,,",
        "Luis,Mora,luis@acme.example,,,,",
    ],
    "one-error.csv": [
        HEADER,
        "Ana,Gil,ana@acme.example,,,,",
        "Luis,,luis@acme.example,,,,",
    ],
    "two-errors.csv": [
        HEADER,
        "Ana,Gil,ana@acme.example,,,,",
        "Luis,,luis@acme.example,,,,",
        "Eva,Paz,eva@acme.example,,jefe,,",
    ],
    "hopeless.csv": [HEADER, "Luis,,luis@acme.example,,,,"],
    "columns.csv": ["nombre,correo", "Ana,ana@acme.example"],
    "empty-orgs.csv": ["id,name,parent"],
    "cycle.csv": ["id,name,parent", "a,Uno,b", "b,Dos,a"],
    "orphans.csv": ["id,name,parent", "a,Uno,nada", "b,Dos,nada"],
    "nameless.csv": ["id,name,parent", "a,,"],
}

#: The automatic root organization's name: data, the same in every language.
AUTO_ROOT_NAME = "My organization"

#: The command names, shown as they are in the help.
COMMAND_NAMES = ("template", "check", "import", "users", "orgs", "list", "add", "load")


@pytest.fixture(autouse=True)
def no_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """No locale variable and no color: only ``--lang`` chooses."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A parent of fresh folders (see :func:`fresh`); no terminal to confirm on."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return tmp_path


def fresh(parent: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new current folder ``parent/name`` with the example organizations and
    :data:`FILES`."""
    folder = parent / name
    folder.mkdir()
    shutil.copy(EXAMPLES / "orgs.csv", folder)
    for file_name, lines in FILES.items():
        (folder / file_name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "binary.csv").write_bytes(b"PK\x03\x04" + bytes(200))
    monkeypatch.chdir(folder)
    return folder


def run(
    argv: list[str], lang: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Run the command line with ``--lang``; its status, and stdout and stderr."""
    capsys.readouterr()
    status = cli.main([*argv, "--lang", lang])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


LOADED = [["orgs", "load", "orgs.csv"]]
IMPORTED = [*LOADED, ["import", "clean.csv", "--yes"]]

#: (before, command, literals): commands run first, the command said in both
#: languages, and values it shows as they are.
SCENARIOS = {
    "orgs load": ([], ["orgs", "load", "orgs.csv"], ()),
    "orgs load beside another root": (
        [["orgs", "add", "otra", "Otra"]],
        ["orgs", "load", "orgs.csv"],
        (),
    ),
    "orgs load, no organization": ([], ["orgs", "load", "empty-orgs.csv"], ()),
    "orgs load, missing file": ([], ["orgs", "load", "nada.csv"], ()),
    "orgs load, a cycle": ([], ["orgs", "load", "cycle.csv"], ()),
    "orgs load, unknown parent": ([], ["orgs", "load", "orphans.csv"], ()),
    "orgs load, a row without a name": ([], ["orgs", "load", "nameless.csv"], ()),
    "orgs add, unknown parent": (
        [],
        ["orgs", "add", "a", "Uno", "--parent", "nada"],
        (),
    ),
    "orgs list, nothing stored": ([], ["orgs", "list"], (AUTO_ROOT_NAME,)),
    "orgs list --as": (LOADED, ["orgs", "list", "--as", "es"], ()),
    "orgs add": ([], ["orgs", "add", "es", "España", "--parent", "root"], ()),
    "template -o": ([], ["template", "-o", "plantilla.csv"], ()),
    "template, no folder": ([], ["template", "-o", "nada/plantilla.csv"], ()),
    "template xlsx --delimiter": (
        [],
        ["template", "--format", "xlsx", "--delimiter", ";"],
        (),
    ),
    "check": (LOADED, ["check", "clean.csv"], ()),
    "check, errors": (LOADED, ["check", "two-errors.csv"], ()),
    "check, file-level error": ([], ["check", "columns.csv"], ()),
    "check, missing file": ([], ["check", "nada.csv"], ()),
    "import, creating the root": ([], ["import", "clean.csv", "--yes"], ()),
    "import": (LOADED, ["import", "clean.csv", "--yes"], ()),
    "import again": (IMPORTED, ["import", "clean.csv", "--yes"], ()),
    "import, 1 error": (LOADED, ["import", "one-error.csv", "--yes"], ()),
    "import, 2 errors": (LOADED, ["import", "two-errors.csv", "--yes"], ()),
    "import --skip-invalid": (
        LOADED,
        ["import", "two-errors.csv", "--yes", "--skip-invalid"],
        (),
    ),
    "import, nothing valid": (LOADED, ["import", "hopeless.csv", "--yes"], ()),
    "import, no terminal": (LOADED, ["import", "clean.csv"], ()),
    "users, nobody": ([], ["users"], ()),
    "users": (IMPORTED, ["users"], ()),
    "users --limit": (IMPORTED, ["users", "--limit", "1"], ()),
    "unknown --as": (LOADED, ["users", "--as", "nada"], ()),
    "several roots": (
        [["orgs", "add", "uno", "Uno"], ["orgs", "add", "dos", "Dos"]],
        ["users"],
        (),
    ),
    "unsupported URL": ([], ["users", "--db", "mysql://app@db.example/x"], ()),
    "in-memory URL": ([], ["users", "--db", "sqlite:///"], ()),
    "percent-escapes": ([], ["users", "--db", "sqlite:///a%20b.db"], ()),
    "NUL": ([], ["users", "--db", "sqlite:///a%00b.db"], ()),
    "missing folder": ([], ["users", "--db", "sqlite:///nada/x.db"], ()),
}


@pytest.mark.parametrize(
    ("before", "command", "literals"),
    [pytest.param(*scenario, id=name) for name, scenario in SCENARIOS.items()],
)
def test_every_command_and_failure_speaks_spanish(
    folders: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    before: list[list[str]],
    command: list[str],
    literals: tuple[str, ...],
) -> None:
    """Each command, and each way it fails, says in Spanish all it said in
    English, and ends with the same exit status."""
    said = {}
    for lang in ("en", "es"):
        fresh(folders, lang, monkeypatch)
        for argv in before:
            assert 0 == run(argv, "en", capsys)[0], argv
        said[lang] = run(command, lang, capsys)

    (status_en, english), (status_es, spanish) = said["en"], said["es"]
    assert status_en == status_es
    assert spanish.strip()
    assert english != spanish
    assert [] == english_left(spanish, literals), spanish
    assert len(english.splitlines()) == len(spanish.splitlines())


def test_the_review_table_in_spanish(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review's header, actions and severities are Spanish words, laid out
    as wide as they are; codes and emails stay as they are."""
    fresh(folders, "here", monkeypatch)
    run(["orgs", "load", "orgs.csv"], "en", capsys)

    status, said = run(["check", "two-errors.csv"], "es", capsys)

    lines = said.splitlines()
    assert 1 == status
    assert "two-errors.csv: 3 filas, codificación utf-8, separador ','" == lines[0]
    assert "fila  acción     correo electrónico  problemas" == lines[1]
    assert lines[2].startswith("   2  crear      ana@acme.example")
    assert lines[3].startswith("   3  no válida  luis@acme.example   error: ")
    assert lines[3].endswith("(missing_value)")
    assert lines[-1] == (
        "3 filas: 1 para crear, 0 para actualizar, 0 para omitir, 2 no válidas; "
        "2 errores, 0 avisos."
    )


def test_singular_and_plural(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One of a thing is singular, any other number plural, in Spanish as in
    English."""
    fresh(folders, "here", monkeypatch)
    assert "0 usuarios." == run(["users"], "es", capsys)[1].strip()
    run(["orgs", "add", "es", "España"], "en", capsys)
    said = run(["orgs", "add", "es-mad", "Madrid", "--parent", "es"], "es", capsys)[1]
    assert "1 organización: 1 añadidas, 0 cambiadas, 0 sin cambios." == said.strip()


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answer", "status"),
    [("s\n", 0), ("sí\n", 0), ("Si\n", 0), ("y\n", 0), ("n\n", 1), ("\n", 1), ("", 1)],
)
def test_the_confirmation_in_spanish(
    folders: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    status: int,
) -> None:
    """The question is Spanish, and so are the answers it takes (``s``, ``sí``),
    besides English's ``y`` that a script may give."""
    here = fresh(folders, "here", monkeypatch)
    monkeypatch.setattr(sys, "stdin", Terminal(answer))

    result, said = run(["import", "clean.csv"], "es", capsys)

    assert status == result
    assert "¿Importar 2 usuarios? [s/N] " in said
    with sqlite3.connect(here / "userimport.db") as conn:
        stored = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    assert (2 if status == 0 else 0) == stored
    if status:
        assert said.endswith("Cancelado; no se importó nada.\n")


def test_the_pages_prompt_in_spanish(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal, the prompt between pages is Spanish."""
    fresh(folders, "here", monkeypatch)
    run(["import", "clean.csv", "--yes"], "en", capsys)
    monkeypatch.setattr(sys, "stdin", Terminal("\n"))
    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)

    assert 0 == cli.main(["users", "--limit", "1", "--lang", "es"])

    out = screen.getvalue()
    assert "-- Enter: página siguiente; q: salir -- " in out
    assert out.endswith("2 usuarios.\n")
    assert [] == english_left(out, [AUTO_ROOT_NAME, "Enter"])  # the key's name


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(KeyboardInterrupt(), id="interrupted"),
        pytest.param(OSError(28, "No space left on device"), id="system"),
    ],
)
def test_a_failure_at_commit_in_spanish(
    folders: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failure: BaseException,
) -> None:
    """Ctrl-C is said in Spanish; a system failure in the system's own words."""
    fresh(folders, "here", monkeypatch)

    def fail(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(_commands, "commit", fail)

    status, said = run(["import", "clean.csv", "--yes"], "es", capsys)

    last = said.splitlines()[-1]
    if isinstance(failure, KeyboardInterrupt):
        assert (130, "userimport: error: Interrumpido.") == (status, last)
    else:
        assert (2, "userimport: error: [Errno 28] No space left on device") == (
            status,
            last,
        )


def test_a_missing_extra_in_spanish(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the ``sql`` or the ``xlsx`` extra, what to install is said in
    Spanish."""
    fresh(folders, "here", monkeypatch)
    monkeypatch.setattr(_workbook, "available", lambda: False)
    workbook = run(["template", "--format", "xlsx"], "es", capsys)
    monkeypatch.setitem(sys.modules, "userimport.sql", None)
    database = run(["import", "clean.csv", "--yes"], "es", capsys)

    for status, said in (workbook, database):
        assert 2 == status
        assert said.startswith(("userimport: error: El libro", "userimport: error: La"))
        assert [] == english_left(said), said


# --- the parser ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["template"], ["check"], ["import"], ["users"], ["orgs"]]
    + [["orgs", name] for name in ("list", "add", "load")],
    ids=lambda command: " ".join(command) or "userimport",
)
def test_the_help_in_spanish(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Every ``--help`` is Spanish: the usage line, the section titles, argparse's
    own ``-h`` and ``--version``, and every help text."""
    status, said = run([*command, "--help"], "es", capsys)

    assert 0 == status
    assert said.startswith("uso: userimport")
    assert [] == english_left(said, COMMAND_NAMES), said


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (["users", "--limit", "0"], "'0' no es un número de usuarios (1 o más)"),
        (["check", "x.csv", "--encoding", "klingon"], "codificación desconocida"),
        (["check", "x.csv", "--delimiter", "ab"], "'ab' no es un separador"),
    ],
)
def test_a_bad_option_value_in_spanish(
    capsys: pytest.CaptureFixture[str], command: list[str], problem: str
) -> None:
    """What is wrong with an option's value is said in Spanish, after the usage
    line in Spanish (argparse writes the frame: ``argument --limit:``)."""
    status, said = run(command, "es", capsys)

    assert 2 == status
    assert said.startswith("uso: userimport")
    assert problem in said.splitlines()[-1]


def test_the_language_comes_before_the_parser(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--lang`` anywhere, or the environment's locale, chooses the help's
    language; ``--lang`` wins over the environment."""
    monkeypatch.setenv("LANG", "es_ES.UTF-8")
    assert 0 == cli.main(["--help"])
    assert capsys.readouterr().out.startswith("uso: ")
    assert 0 == cli.main(["users", "--help", "--lang=en"])
    assert capsys.readouterr().out.startswith("usage: ")


TOKENS = st.sampled_from(
    [
        "check",
        "users",
        "orgs",
        "list",
        "f.csv",
        "--",
        "--lang",
        "--lang=es",
        "--lang=en",
        "--lang=fr",
        "es",
        "en",
        "fr",
        "--search",
        "--limit",
        "2",
        "--as",
        "root",
    ]
)


@given(st.lists(TOKENS, max_size=8))
def test_the_language_read_before_the_parser_is_the_parsed_one(
    argv: list[str],
) -> None:
    """Whenever the arguments parse, the language read before the parser existed
    is the one the parser read."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:
        return
    assert args.lang == chosen_language(argv)


# --- what a script reads ---------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["template"], ["template", "--language", "es"], ["template", "--no-examples"]],
)
def test_the_template_bytes_are_the_same_in_every_language(
    capsysbinary: pytest.CaptureFixture[bytes], command: list[str]
) -> None:
    """The template written to stdout is the same bytes whatever ``--lang``."""
    written = {}
    for lang in ("en", "es"):
        assert 0 == cli.main([*command, "--lang", lang])
        written[lang] = capsysbinary.readouterr().out
    assert written["en"] == written["es"]
    assert written["en"]


def test_the_written_files_and_the_database_are_the_same_in_every_language(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same commands in English and in Spanish write the same template
    files and store the same organizations and users, with the same statuses."""
    commands = [
        ["import", "one-error.csv", "--yes", "--skip-invalid"],
        ["orgs", "add", "es", "España", "--parent", "root"],
        ["template", "-o", "plantilla.csv", "--language", "es"],
        ["template", "-o", "plantilla.xlsx", "--format", "xlsx"],
        ["import", "two-errors.csv", "--yes"],
    ]
    kept = {}
    for lang in ("en", "es"):
        here = fresh(folders, lang, monkeypatch)
        statuses = [run(argv, lang, capsys)[0] for argv in commands]
        with sqlite3.connect(here / "userimport.db") as conn:
            users = conn.execute(
                "SELECT email, first_name, last_name, role FROM users ORDER BY 1"
            ).fetchall()
            orgs = conn.execute("SELECT * FROM organizations ORDER BY 1").fetchall()
        book = openpyxl.load_workbook(here / "plantilla.xlsx")
        cells = [
            [cell.value for cell in row] for sheet in book for row in sheet.iter_rows()
        ]
        template = (here / "plantilla.csv").read_bytes()
        kept[lang] = (statuses, users, orgs, cells, template)
    assert kept["en"] == kept["es"]
    assert [0, 0, 0, 0, 1] == kept["en"][0]
