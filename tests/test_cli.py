"""The ``userimport`` command line: its commands, options, messages and exit status.

The first tests run the real program (``python -m userimport``) in a temporary
folder, as a user would; the rest call :func:`userimport.cli.main` in-process,
which is faster and measured by coverage.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from userimport import CommitBlocked, CommitConflict, _workbook, cli, template
from userimport.cli import _commands

EXAMPLES = Path(__file__).parent.parent / "examples"
HEADER = "first_name,last_name,email,organization,role,groups,language"
DOCS = Path(__file__).parent.parent / "docs" / "cli.md"


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m userimport ARGS`` in ``folder``, stdin closed, no color."""
    return subprocess.run(
        [sys.executable, "-m", "userimport", *args],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def write_csv(path: Path, *rows: str) -> Path:
    """A UTF-8 users file with the canonical header."""
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def stored_emails(folder: Path, name: str = "userimport.db") -> list[str]:
    """The emails in a database, read with sqlite3 itself."""
    with sqlite3.connect(folder / name) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM users ORDER BY 1")]


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """No locale variable: the messages are in English, whatever the machine's."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean current folder (where the default database goes), no NO_COLOR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# --- the real program ---------------------------------------------------------------


def test_readme_first_command(tmp_path: Path) -> None:
    """README's steps on a clean folder: load the organizations, import the
    example users (a cp1252, ';' Excel export), list them."""
    shutil.copy(EXAMPLES / "orgs.csv", tmp_path)
    shutil.copy(EXAMPLES / "users.csv", tmp_path)

    loaded = run(tmp_path, "orgs", "load", "orgs.csv")
    imported = run(tmp_path, "import", "users.csv", "--yes")
    listed = run(tmp_path, "users")

    assert (0, 0, 0) == (loaded.returncode, imported.returncode, listed.returncode)
    emails = [
        "jose.nunez@acme.example",
        "oyvind.muller@acme.example",
        "carmen.ruiz@acme.example",
        "grace@acme.example",
        "Alan.Turing@acme.example",
        "lucia.fernandez@acme.example",
    ]
    assert [] == [email for email in emails if email not in listed.stdout]
    assert "Núñez" in listed.stdout
    assert "6 users." in listed.stdout


def test_error_rows_and_exit_status(tmp_path: Path) -> None:
    """``check`` on a file with errors exits 1 and shows each error at the row
    number a spreadsheet shows, with its code; nothing goes to stderr."""
    shutil.copy(EXAMPLES / "users-with-errors.csv", tmp_path)
    db = f"sqlite:///{tmp_path / 'userimport.db'}"
    assert 0 == cli.main(["orgs", "load", str(EXAMPLES / "orgs.csv"), "--db", db])

    result = run(tmp_path, "check", "users-with-errors.csv")

    assert 1 == result.returncode
    assert "" == result.stderr
    lines = result.stdout.splitlines()
    expected = {
        2: "ambiguous_organization",
        3: "duplicate_email",
        4: "invalid_characters",
        5: "missing_value",
        6: "invalid_role",
    }
    for row, code in expected.items():
        line = next(line for line in lines if line.lstrip().startswith(f"{row} "))
        assert "invalid" in line
        assert code in line
    assert "5 invalid" in lines[-1]


def test_import_then_users(tmp_path: Path) -> None:
    """A real import into the default SQLite file, then ``users`` lists them
    with their organization path and role."""
    write_csv(
        tmp_path / "team.csv",
        "Ana,Ruiz,ana@acme.example,,manager,Sales,es",
        "Bo,Li,bo@acme.example,,,,",
    )

    imported = run(tmp_path, "import", "team.csv", "--yes")
    listed = run(tmp_path, "users")

    assert 0 == imported.returncode, imported.stderr
    assert "Imported: 2 created" in imported.stdout
    assert 0 == listed.returncode
    ana = next(line for line in listed.stdout.splitlines() if "ana@" in line)
    assert ["ana@acme.example", "Ana", "Ruiz", "My", "organization", "manager"] == (
        ana.split()[:6]
    )
    assert "2 users." in listed.stdout


def test_usage_error(tmp_path: Path) -> None:
    """A missing argument or an unknown option exits 2 with the usage on stderr."""
    missing = run(tmp_path, "import")
    unknown = run(tmp_path, "users", "--colour")

    for result in (missing, unknown):
        assert 2 == result.returncode
        # `python -m userimport` is the same program as `userimport`.
        assert "usage: userimport" in result.stderr
        assert "error:" in result.stderr
        assert "Traceback" not in result.stderr


def test_file_not_found(tmp_path: Path) -> None:
    """A file that does not exist: exit 2, one line naming it, no traceback."""
    result = run(tmp_path, "import", "nope.csv", "--yes")

    assert 2 == result.returncode
    assert ["userimport: error: Cannot read nope.csv: No such file or directory."] == (
        result.stderr.splitlines()
    )


UNOPENABLE = [
    "sqlite:////nonexistent/dir/x.db",
    "nosuchdb://user:secret@host/db",
    "postgresql+psycopg://user:secret@127.0.0.1:9/db",
]


def test_database_cannot_be_opened(tmp_path: Path) -> None:
    """A database that cannot be opened exits 2 with a one-line message, never a
    traceback, and never shows the password of its URL."""
    write_csv(tmp_path / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    result = run(tmp_path, "import", "team.csv", "--yes", "--db", UNOPENABLE[0])

    assert 2 == result.returncode
    assert [
        "userimport: error: Cannot open the database sqlite:////nonexistent/dir/x.db: "
        "The database failed (OperationalError: unable to open database file); "
        "nothing was written."
    ] == result.stderr.splitlines()


@pytest.mark.parametrize("url", [*UNOPENABLE, "sqlite:///not-a-database.csv"])
@pytest.mark.parametrize(
    "command",
    [
        ["import", "team.csv", "--yes"],
        ["check", "team.csv"],
        ["users"],
        ["orgs", "list"],
    ],
)
def test_database_cannot_be_used(
    here: Path, capsys: pytest.CaptureFixture[str], url: str, command: list[str]
) -> None:
    """Every command fails the same way on a database it cannot use (missing
    folder, unknown driver, no server, not a database): exit 2, one line, never
    the password."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")
    (here / "not-a-database.csv").write_bytes(b"id,name\n" * 100)

    status = cli.main([*command, "--db", url])

    err = capsys.readouterr().err
    assert 2 == status
    assert 1 == len(err.splitlines()), err
    assert err.startswith("userimport: error: Cannot ")
    assert "secret" not in err


def test_in_memory_database_saves_nothing(tmp_path: Path) -> None:
    """``--db sqlite:///``, what ``sqlite:///$FILE`` gives when the variable is
    unset, is refused with exit 2 before the review: no "Imported" line for users
    that would vanish, and nothing written."""
    write_csv(tmp_path / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    result = run(tmp_path, "--db", "sqlite:///", "import", "team.csv", "--yes")

    assert (2, "") == (result.returncode, result.stdout)
    assert 1 == len(result.stderr.splitlines())
    assert "in memory" in result.stderr
    assert ["team.csv"] == [path.name for path in tmp_path.iterdir()]


def test_no_terminal_no_yes(tmp_path: Path) -> None:
    """Without --yes and without a terminal to confirm on, import refuses with
    exit 2 after the review, and writes no user."""
    write_csv(tmp_path / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    result = run(tmp_path, "import", "team.csv")

    assert 2 == result.returncode
    assert "--yes" in result.stderr
    assert "ana@acme.example" in result.stdout
    assert [] == stored_emails(tmp_path)


def test_orgs_and_global_options_after_command(tmp_path: Path) -> None:
    """``orgs load``, ``orgs add`` and ``orgs list`` build and show the tree;
    ``--db``, ``--as`` and ``--role`` work after the command name as before it."""
    shutil.copy(EXAMPLES / "orgs.csv", tmp_path)
    write_csv(tmp_path / "team.csv", "Ana,Ruiz,ana@acme.example,Valencia,instructor,,")
    db = "sqlite:///other.db"

    loaded = run(tmp_path, "orgs", "load", "orgs.csv", "--db", db)
    added = run(
        tmp_path, "orgs", "add", "es-vlc", "Valencia", "--parent", "es", "--db", db
    )
    imported = run(
        tmp_path,
        "import",
        "team.csv",
        "--yes",
        "--db",
        db,
        "--as",
        "es",
        "--role",
        "manager",
    )
    listed = run(tmp_path, "orgs", "list", "--as", "es", "--db", db)
    users = run(tmp_path, "--db", db, "--as", "es", "users")

    assert [0, 0, 0, 0, 0] == [
        r.returncode for r in (loaded, added, imported, listed, users)
    ]
    assert "10 organizations: 10 added" in loaded.stdout
    assert "1 organization: 1 added" in added.stdout
    assert "  es-vlc    Valencia" in listed.stdout.splitlines()
    assert "Spain / Valencia" in users.stdout
    assert not (tmp_path / "userimport.db").exists()
    assert ["ana@acme.example"] == stored_emails(tmp_path, "other.db")


def test_template_bytes(tmp_path: Path) -> None:
    """``template`` writes exactly the bytes of ``outputs.template()`` to stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "userimport", "template"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )

    assert template("en", examples=True) == result.stdout


# --- check ---------------------------------------------------------------------------


def test_check_without_database(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``check`` works with no set-up: a clean file exits 0 and no database file
    is created."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    status = cli.main(["check", "team.csv"])

    out = capsys.readouterr().out
    assert 0 == status
    assert "1 row: 1 to create, 0 to update, 0 to skip, 0 invalid" in out
    assert not (here / "userimport.db").exists()


def test_check_uses_the_database(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check`` resolves organizations and finds existing users in the database
    when there is one, and writes nothing to it."""
    write_csv(here / "a.csv", "Ana,Ruiz,ana@acme.example,Madrid,,,")
    assert 0 == cli.main(["orgs", "load", str(EXAMPLES / "orgs.csv")])
    assert 0 == cli.main(["import", "a.csv", "--yes"])
    write_csv(
        here / "b.csv", "Ana,Ruiz,ana@acme.example,es-mad,,,", "Bo,Li,bo@x.es,,,,"
    )
    capsys.readouterr()

    status = cli.main(["check", "b.csv"])

    out = capsys.readouterr().out
    assert 0 == status
    assert "1 to create, 0 to update, 1 to skip" in out
    assert "email_exists" in out
    assert ["ana@acme.example"] == stored_emails(here)


def test_check_read_options(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--delimiter`` (``tab`` for a tab) and ``--encoding`` are honoured."""
    data = HEADER.replace(",", "\t") + "\nJosé,Núñez,jose@acme.example\t\t\t\t\n"
    (here / "t.csv").write_bytes(data.replace(",", "\t").encode("cp1252"))

    status = cli.main(["check", "t.csv", "--delimiter", "tab", "--encoding", "1252"])

    assert 0 == status
    assert "encoding cp1252, delimiter '\\t'" in capsys.readouterr().out


@pytest.mark.parametrize(
    "option", [["--delimiter", ";;"], ["--delimiter", '"'], ["--encoding", "nope"]]
)
def test_bad_read_options(
    here: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """An impossible delimiter or an unknown encoding is a usage error."""
    status = cli.main(["check", "x.csv", *option])

    assert 2 == status
    assert "error: argument" in capsys.readouterr().err


def test_check_file_level_error(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file-level error is shown as a ``file:`` line; exit 1."""
    (here / "x.csv").write_text("name,mail\nAna,ana@x.es\n", encoding="utf-8")

    status = cli.main(["check", "x.csv"])

    out = capsys.readouterr().out
    assert 1 == status
    assert any(
        line.startswith("file: error:") and "missing_columns" in line
        for line in out.splitlines()
    )


def test_check_file_not_decoded(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that could not be read at all says so in the first line."""
    (here / "x.csv").write_bytes(b"PK\x03\x04" + bytes(200))

    status = cli.main(["check", "x.csv"])

    out = capsys.readouterr().out
    assert 1 == status
    assert "x.csv: 0 rows, not read" == out.splitlines()[0]


# --- import --------------------------------------------------------------------------


def test_import_blocked_by_errors(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows with errors block the import (exit 1, nothing written) unless
    ``--skip-invalid``, which imports the others (exit 0)."""
    write_csv(
        here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,", "Bo,,bo@acme.example,,,,"
    )

    blocked = cli.main(["import", "x.csv", "--yes"])
    err = capsys.readouterr().err
    emails_after_block = stored_emails(here)
    skipped = cli.main(["import", "x.csv", "--yes", "--skip-invalid"])

    assert 1 == blocked
    assert "--skip-invalid" in err
    assert [] == emails_after_block
    assert 0 == skipped
    assert "1 left out with errors" in capsys.readouterr().out
    assert ["ana@acme.example"] == stored_emails(here)


def test_import_nothing_valid(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file with no importable row exits 1, even with ``--skip-invalid``."""
    write_csv(here / "x.csv", "Bo,,bo@acme.example,,,,")

    status = cli.main(["import", "x.csv", "--yes", "--skip-invalid"])

    assert 1 == status
    assert "no row that can be imported" in capsys.readouterr().err


def test_import_creates_the_root(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first import into a database without organizations stores the root
    organization ``root`` ("My organization"), once."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")

    first = cli.main(["import", "x.csv", "--yes"])
    out = capsys.readouterr().out
    again = cli.main(["import", "x.csv", "--yes"])

    assert (0, 0) == (first, again)
    assert "Created the root organization 'root'" in out
    assert "Created" not in capsys.readouterr().out
    cli.main(["orgs", "list"])
    assert ["id    name", "root  My organization"] == (
        capsys.readouterr().out.splitlines()
    )


def test_reimport_skips(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Importing the same file again creates nothing: exit 0, nothing to import."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")
    cli.main(["import", "x.csv", "--yes"])
    capsys.readouterr()

    status = cli.main(["import", "x.csv", "--yes"])

    assert 0 == status
    assert "Nothing to import" in capsys.readouterr().out
    assert ["ana@acme.example"] == stored_emails(here)


def test_on_existing(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--on-existing update`` shows and applies the changes; ``error`` makes
    existing users errors (exit 1), in ``check`` as in ``import``."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")
    cli.main(["import", "x.csv", "--yes"])
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,manager,,")
    capsys.readouterr()

    checked = cli.main(["check", "x.csv", "--on-existing", "error"])
    refused = cli.main(["import", "x.csv", "--yes", "--on-existing", "error"])
    refused_out = capsys.readouterr().out
    updated = cli.main(["import", "x.csv", "--yes", "--on-existing", "update"])
    updated_out = capsys.readouterr().out

    assert (1, 1) == (checked, refused)
    assert "email_exists" in refused_out
    assert 0 == updated
    assert "role: learner → manager" in updated_out
    assert "1 updated" in updated_out


@pytest.mark.parametrize(
    ("answer", "status", "emails"),
    [("y\n", 0, ["ana@acme.example"]), ("n\n", 1, []), ("", 1, [])],
)
def test_import_confirmation(
    here: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    status: int,
    emails: list[str],
) -> None:
    """On a terminal, import asks "Import N users? [y/N]"; only yes imports
    (no, or end of input, cancels with exit 1)."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")
    monkeypatch.setattr(sys, "stdin", Terminal(answer))

    result = cli.main(["import", "x.csv"])

    assert status == result
    assert "Import 1 user? [y/N] " in capsys.readouterr().out
    assert emails == stored_emails(here)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (CommitConflict("The users changed since the review (rows 2).", rows=(2,)), 2),
        (CommitBlocked("Rows 2 have errors.", rows=(2,)), 1),
        (OSError(28, "No space left on device"), 2),
        (KeyboardInterrupt(), 130),
    ],
)
def test_commit_failures(
    here: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    status: int,
) -> None:
    """A conflict at commit (another writer meanwhile) exits 2, a blocked
    commit 1, an OS failure 2, Ctrl-C 130: each one line on stderr."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(_commands, "commit", fail)

    result = cli.main(["import", "x.csv", "--yes"])

    assert status == result
    err = capsys.readouterr().err.splitlines()
    assert 1 == len(err)
    assert err[0].startswith("userimport: error: ")


# --- users, --as and --role ------------------------------------------------------


def test_users_without_database(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``users`` before any import lists nobody and creates no database."""
    status = cli.main(["users"])

    assert 0 == status
    assert "0 users." == capsys.readouterr().out.strip()
    assert not (here / "userimport.db").exists()


def test_users_in_empty_database(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database file without the tables is read as empty and left unchanged."""
    sqlite3.connect(here / "userimport.db").close()

    status = cli.main(["users"])

    assert 0 == status
    assert "0 users." == capsys.readouterr().out.strip()
    assert 0 == (here / "userimport.db").stat().st_size


def test_acting_organization_and_role(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--as`` limits the users seen to that organization's subtree, paths start
    there; ``--role`` limits the roles one may give."""
    cli.main(["orgs", "load", str(EXAMPLES / "orgs.csv")])
    write_csv(
        here / "x.csv", "Ana,Ruiz,ana@acme.example,es-mad,,,", "Bo,Li,bo@x.us,us,,,"
    )
    cli.main(["import", "x.csv", "--yes"])
    write_csv(here / "y.csv", "Cy,Ng,cy@x.es,Madrid,admin,,")
    capsys.readouterr()

    listed = cli.main(["users", "--as", "es"])
    out = capsys.readouterr().out
    as_manager = cli.main(["check", "y.csv", "--as", "es", "--role", "manager"])

    assert 0 == listed
    assert "Spain / Madrid" in out
    assert "bo@x.us" not in out
    assert "1 user." in out
    assert 1 == as_manager
    assert "role_not_allowed" in capsys.readouterr().out


def test_unknown_acting_organization(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--as`` with an unknown id is a usage error that points to ``orgs list``."""
    status = cli.main(["users", "--as", "nowhere"])

    assert 2 == status
    assert "userimport orgs list" in capsys.readouterr().err


def test_several_roots_need_as(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With several root organizations, a command that acts needs ``--as``."""
    cli.main(["orgs", "add", "a", "Alpha"])
    cli.main(["orgs", "add", "b", "Beta"])
    capsys.readouterr()

    without = cli.main(["users"])
    err = capsys.readouterr().err
    with_as = cli.main(["users", "--as", "b"])

    assert 2 == without
    assert "several root organizations (a, b)" in err
    assert "--as" in err
    assert 0 == with_as


# --- orgs ------------------------------------------------------------------------


def test_orgs_list_before_anything(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``orgs list`` on a new database shows the root the first import creates."""
    status = cli.main(["orgs", "list"])

    assert 0 == status
    assert [
        "id    name",
        "root  My organization",
        "(not stored yet: the first import creates it)",
    ] == capsys.readouterr().out.splitlines()


def test_orgs_add_and_list(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``orgs add`` under the automatic root stores it too; the tree is listed
    indented by depth; adding an existing id renames it."""
    cli.main(["orgs", "add", "es", "Spain", "--parent", "root"])
    cli.main(["orgs", "add", "mad", "Madrid", "--parent", "es"])
    cli.main(["orgs", "add", "es", "España", "--parent", "root"])
    out = capsys.readouterr().out

    status = cli.main(["orgs", "list"])

    assert 0 == status
    assert "2 organizations: 2 added, 0 changed, 0 unchanged." in out
    assert "1 organization: 0 added, 1 changed, 0 unchanged." in out
    assert [
        "id       name",
        "root     My organization",
        "  es     España",
        "    mad  Madrid",
    ] == capsys.readouterr().out.splitlines()


def test_orgs_list_as(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``orgs list --as ID`` shows that organization's subtree only."""
    cli.main(["orgs", "load", str(EXAMPLES / "orgs.csv")])
    capsys.readouterr()

    status = cli.main(["orgs", "list", "--as", "us"])

    assert 0 == status
    assert ["id          name", "us          United States"] == (
        capsys.readouterr().out.splitlines()[:2]
    )


def test_orgs_add_unknown_parent(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A parent that does not exist is an error in the data: exit 1, no change."""
    status = cli.main(["orgs", "add", "x", "X", "--parent", "nowhere"])

    assert 1 == status
    assert "Nothing was changed" in capsys.readouterr().err


def test_orgs_load_replaces_the_automatic_root(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loading a file whose root has the id ``root`` after a first import renames
    the automatic root: one root, the users stay where they were."""
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")
    cli.main(["import", "x.csv", "--yes"])
    capsys.readouterr()

    status = cli.main(["orgs", "load", str(EXAMPLES / "orgs.csv")])
    out = capsys.readouterr().out
    cli.main(["users"])

    assert 0 == status
    assert "10 organizations: 9 added, 1 changed, 0 unchanged." in out
    assert "Note" not in out
    assert "Acme Learning" in capsys.readouterr().out


def test_orgs_load_beside_another_root(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with another root id adds a second root, and says --as is needed."""
    (here / "o.csv").write_text("id,name,parent\nacme,Acme,\n", encoding="utf-8")
    cli.main(["orgs", "add", "root", "My organization"])

    status = cli.main(["orgs", "load", "o.csv"])

    assert 0 == status
    assert "several root organizations (acme, root)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,name,parent\na,A,b\nb,B,a\n", "cycle"),
        (b'id,name\na,A\n"b,B\n', "not valid CSV"),
        (b"id,name,parent\n", "holds no organization"),
        (b"PK\x03\x04" + bytes(100), "ZIP"),
    ],
)
def test_orgs_load_bad_file(
    here: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """A file that cannot be loaded (a cycle, broken CSV, no rows, a workbook)
    exits 1 with one line and stores nothing."""
    (here / "o.csv").write_bytes(content)

    status = cli.main(["orgs", "load", "o.csv"])

    assert 1 == status
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert message in err


def test_orgs_load_missing_file(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing organizations file is exit 2."""
    status = cli.main(["orgs", "load", "nope.csv"])

    assert 2 == status
    assert "Cannot read nope.csv" in capsys.readouterr().err


# --- template --------------------------------------------------------------------


def test_template_to_file(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``template -o FILE`` writes the template without examples when asked."""
    status = cli.main(["template", "-o", "t.csv", "--no-examples"])

    assert 0 == status
    assert template("en", examples=False) == (here / "t.csv").read_bytes()
    assert "Wrote the template to t.csv." in capsys.readouterr().out


def test_template_to_bad_folder(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template file that cannot be written is exit 2."""
    status = cli.main(["template", "-o", "no/such/folder/t.csv"])

    assert 2 == status
    assert "Cannot write no/such/folder/t.csv" in capsys.readouterr().err


def test_template_to_stdout(
    here: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """``template`` writes its bytes to stdout as they are (BOM included)."""
    status = cli.main(["template", "--language", "es"])

    assert 0 == status
    assert template("es", examples=True) == capsysbinary.readouterr().out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--language", "es"], template("es")),
        (["--language", "es", "--delimiter", ","], template("es", delimiter=",")),
        (["--delimiter", "tab"], template("en", delimiter="\t")),
        (
            ["--no-examples", "--delimiter", "|"],
            template(examples=False, delimiter="|"),
        ),
    ],
)
def test_template_delimiter(
    here: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    args: list[str],
    expected: bytes,
) -> None:
    """``template`` writes with the language's list separator (``;`` for ``es``),
    or with ``--delimiter`` (``tab`` for a tab)."""
    status = cli.main(["template", *args])

    assert 0 == status
    assert expected == capsysbinary.readouterr().out


@pytest.mark.parametrize("delimiter", [";;", '"', ""])
def test_template_refuses_a_bad_delimiter(
    here: Path, capsys: pytest.CaptureFixture[str], delimiter: str
) -> None:
    """A ``--delimiter`` no file can have is a usage error: exit 2, nothing
    written."""
    status = cli.main(["template", "-o", "t.csv", "--delimiter", delimiter])

    assert 2 == status
    assert "is not a delimiter" in capsys.readouterr().err
    assert not (here / "t.csv").exists()


def stored_organizations(folder: Path) -> list[tuple[str, str]]:
    """The ids and names of the stored organizations, read with sqlite3 itself."""
    with sqlite3.connect(folder / "userimport.db") as conn:
        return list(conn.execute("SELECT id, name FROM organizations ORDER BY id"))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Sales\u202eslx.exe", "'Sales\\u202eslx.exe'"),
        ("Sa\u200bles", "'Sa\\u200bles'"),
        ("\u2066Sales", "'\\u2066Sales'"),
    ],
)
def test_orgs_load_refuses_hidden_characters_in_names(
    here: Path, capsys: pytest.CaptureFixture[str], name: str, shown: str
) -> None:
    """An organizations file whose names hold a hidden character (a right-to-left
    override, a zero-width space, an isolate) is refused as data with
    errors: exit 1, one line naming the organization with its name escaped, and
    nothing written, not even the file's valid organizations."""
    (here / "ok.csv").write_text("id,name,parent\nroot,Acme,\n", encoding="utf-8")
    cli.main(["orgs", "load", "ok.csv"])
    capsys.readouterr()
    (here / "o.csv").write_text(
        f"id,name,parent\nes,Spain,root\nsales,{name},es\n", encoding="utf-8"
    )

    status = cli.main(["orgs", "load", "o.csv"])

    assert 1 == status
    err = capsys.readouterr().err
    assert 1 == len(err.splitlines())
    assert f"Nothing was changed: Organization 'sales' has the name {shown}" in err
    assert err.endswith("\n")
    assert err[:-1].isprintable()
    assert [("root", "Acme")] == stored_organizations(here)


def test_orgs_add_trims_and_refuses_hidden_characters(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``orgs add`` trims the id, name and parent as typed, and refuses a name
    with a hidden character inside: exit 1, nothing written."""
    added = cli.main(["orgs", "add", " es ", " Spain  "])
    refused = cli.main(["orgs", "add", "mad", "Mad\u202erid", "--parent", "es"])

    assert (0, 1) == (added, refused)
    assert "(U+202E) at position 4" in capsys.readouterr().err
    assert [("es", "Spain")] == stored_organizations(here)


# --- the --db URL ------------------------------------------------------------------

DATABASE_COMMANDS = [
    ["import", "team.csv", "--yes"],
    ["check", "team.csv"],
    ["users"],
    ["orgs", "list"],
    ["orgs", "add", "es", "Spain"],
    ["orgs", "load", "orgs.csv"],
]

UNSUPPORTED = [
    "mysql://user:secret@host/db",
    "mysql+pymysql://user:sec/ret@host/db",
    "postgres://user:secret@host/db",
    "foo",
    "",
    "users.db",
    "sqlite:users.db",
    "sqlite:/users.db",
    " sqlite:///users.db",
    "file::memory:?cache=shared&uri=true",
    "ſqlite:///users.db",
]

IN_MEMORY = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    ":memory:",
    "SQLITE://",
    "SQLite:///:memory:",
    "sqlite+pysqlite:///",
    "SQLite+PySQLite:///:memory:",
    "sqlite:///?mode=memory",
    "sqlite:///?timeout=5",
    "sqlite:///%3Amemory%3A",
    "sqlite://@/",
    "sqlite://:0/file:users.db?uri=true&mode=memory",
    "sqlite:///file::memory:?cache=shared&uri=true",
    "sqlite:///file:users.db?mode=memory&uri=true",
    "sqlite:///file:users.db?mode=%6Demory&uri=1",
    "sqlite:///file:users.db?mode=rwc%26mode%3Dmemory&uri=true",
    "sqlite:///file:users.db?vfs=memdb&uri=TRUE",
    "sqlite:///file:users.db?cache=x%26mode%3Dmemory&uri=true",
    "sqlite:///file:users.db%3Fmode%3Dmemory?uri=true",
    "sqlite:///file:%253Amemory%253A?uri=yes",
    "sqlite:///file:%2500users.db?uri=true",
    "sqlite:///file:?uri=true",
    "sqlite:///?uri=true",
]


@pytest.mark.parametrize("url", UNSUPPORTED)
@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_unsupported_database_url(
    here: Path, capsys: pytest.CaptureFixture[str], url: str, command: list[str]
) -> None:
    """A ``--db`` that is not an SQLite or PostgreSQL URL exits 2 with one line
    naming both kinds, before anything is read or written; the password of the
    URL is never shown."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")
    shutil.copy(EXAMPLES / "orgs.csv", here)

    status = cli.main([*command, "--db", url])

    out, err = capsys.readouterr()
    assert (2, "") == (status, out)
    assert 1 == len(err.splitlines()), err
    assert "sqlite:///" in err
    assert "postgresql" in err
    assert "secret" not in err
    assert "sec/ret" not in err
    assert ["orgs.csv", "team.csv"] == sorted(path.name for path in here.iterdir())


@pytest.mark.parametrize("url", IN_MEMORY)
@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_in_memory_database_url(
    here: Path, capsys: pytest.CaptureFixture[str], url: str, command: list[str]
) -> None:
    """An SQLite database that vanishes when the command ends (in memory, or
    SQLite's temporary database), however its URL is spelt, exits 2 with one
    line that says so, before anything is read or written."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")
    shutil.copy(EXAMPLES / "orgs.csv", here)

    status = cli.main([*command, "--db", url])

    out, err = capsys.readouterr()
    assert (2, "") == (status, out)
    assert 1 == len(err.splitlines()), err
    assert "in memory" in err
    assert ["orgs.csv", "team.csv"] == sorted(path.name for path in here.iterdir())


def test_template_ignores_the_database(
    here: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """``template`` opens no database, so its ``--db`` is not looked at."""
    status = cli.main(["--db", "sqlite://", "template"])

    assert 0 == status
    assert template("en", examples=True) == capsysbinary.readouterr().out


def test_upper_case_scheme(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A URL's scheme is case-insensitive: ``SQLITE:///team.db`` is the file
    ``team.db``, the same database as ``sqlite:///team.db``."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    imported = cli.main(["import", "team.csv", "--yes", "--db", "SQLite:///team.db"])
    capsys.readouterr()
    listed = cli.main(["users", "--db", "sqlite:///team.db"])

    assert (0, 0) == (imported, listed)
    assert "ana@acme.example" in capsys.readouterr().out
    assert ["ana@acme.example"] == stored_emails(here, "team.db")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///new.db?timeout=5",
        "sqlite:///file:new.db?uri=true",
        "sqlite:///file:./new.db?mode=rwc&uri=true",
        "sqlite:///./new.db",
    ],
)
def test_reading_creates_no_file(
    here: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """``check`` and ``users`` on an SQLite file that does not exist create it
    under no spelling of its URL."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")

    checked = cli.main(["check", "team.csv", "--db", url])
    listed = cli.main(["users", "--db", url])

    assert (0, 0) == (checked, listed)
    assert "0 users." == capsys.readouterr().out.splitlines()[-1]
    assert not (here / "new.db").exists()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///team.db?uri=maybe",
        "sqlite:///team.db?timeout=soon",
        "sqlite:///team%00.db",
        "sqlite:///file:team%00.db?uri=true",
        "sqlite://host/team.db",
        "sqlite:///file:team.db?mode=bogus&uri=true",
        "sqlite:///file://elsewhere/team.db?uri=true",
        "sqlite://?uri=true",
        "sqlite://?uri=true&mode=memory",
    ],
)
@pytest.mark.parametrize("command", [["import", "team.csv", "--yes"], ["users"]])
def test_sqlite_url_the_driver_refuses(
    here: Path, capsys: pytest.CaptureFixture[str], url: str, command: list[str]
) -> None:
    """An SQLite URL that SQLAlchemy or SQLite refuse (a bad option, a NUL
    character, a host) exits 2 with one line, never a traceback."""
    write_csv(here / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")
    sqlite3.connect(here / "team.db").close()  # so that `users` opens it

    status = cli.main([*command, "--db", url])

    err = capsys.readouterr().err
    assert 2 == status
    assert 1 == len(err.splitlines()), err
    assert err.startswith("userimport: error: Cannot ")


#: Pieces of SQLite URLs, relative paths only: every database they name is in a
#: fresh folder.
SQLITE_PREFIXES = ["sqlite:///", "sqlite://", "sqlite+pysqlite:///", "sqlite://@/"]
SQLITE_PATHS = [
    "",
    ":memory:",
    ":MEMORY:",
    "%3Amemory%3A",
    "%253Amemory%253A",
    "team.db",
    " ",
    "%00",
    "file:",
    "file:team.db",
    "file::memory:",
    "file:%3Amemory%3A",
    "file:%253Amemory%253A",
    "file:team%2500.db",
    "file:%2500",
    "file:team%3Fmode%3Dmemory",
    "file:team%253Fmode%253Dmemory",
    "file:team#part",
    "file:team%23part",
    "file://",
    "file://localhost",
    "file:./:memory:",
]
SQLITE_OPTIONS = [
    "uri=true",
    "uri=1",
    "uri=TRUE",
    "uri=false",
    "uri",
    "uri=maybe",
    "mode=memory",
    "mode=rwc",
    "mode=ro",
    "mode=MEMORY",
    "mode=%6Demory",
    "m%6Fde=memory",
    "mode",
    "=memory",
    "mode=memory%2500",
    "%2500mode=memory",
    "vfs=memdb",
    "vfs=unix",
    "cache=shared",
    "cache=x%26mode%3Dmemory",
    "timeout=5",
]


@st.composite
def sqlite_urls(draw: st.DrawFn) -> str:
    """SQLite URLs built from the pieces above."""
    path = "".join(
        draw(st.lists(st.sampled_from(SQLITE_PATHS), min_size=1, max_size=2))
    )
    options = draw(st.lists(st.sampled_from(SQLITE_OPTIONS), max_size=4))
    query = "?" + "&".join(options) if options else ""
    return draw(st.sampled_from(SQLITE_PREFIXES)) + path + query


#: SQLAlchemy before 2.1 does not percent-decode an SQLite URL's database part, so
#: ``sqlite:///%3Amemory%3A`` is a file there; the command line follows 2.1's
#: reading and refuses it, which on 2.0 is only over-cautious.
OLD_URL_GRAMMAR = tuple(map(int, sa.__version__.split(".")[:2])) < (2, 1)


def kept(url: str) -> bool:
    """Whether a table written through ``url`` (with SQLAlchemy, as the store
    writes) is there when the URL is opened again; ``False`` if it cannot be."""
    try:
        for create in (True, False):
            engine = sa.create_engine(url)
            try:
                with engine.begin() as conn:
                    if create:
                        conn.exec_driver_sql("CREATE TABLE probe (x)")
                    names = sa.inspect(conn).get_table_names()
            finally:
                engine.dispose()
    except (sa.exc.SQLAlchemyError, ValueError, TypeError):
        return False
    return "probe" in names


@contextlib.contextmanager
def fresh_folder() -> Iterator[Path]:
    """A new empty current folder, removed afterwards."""
    previous = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(previous)


def run_quietly(*args: str) -> tuple[int, str, str]:
    """``main(args)``: its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(args)
    return status, out.getvalue(), err.getvalue()


@given(sqlite_urls())
def test_an_import_is_kept_or_refused(url: str) -> None:
    """Whatever the SQLite URL, an import either exits 0 and its users are
    there for the next command, or exits 2; it is refused as in memory only when
    what is written through the URL does vanish."""
    with fresh_folder() as folder, warnings.catch_warnings():
        # Options pysqlite ignores, and its pool for `mode=memory`.
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        warnings.simplefilter("ignore", sa.exc.SADeprecationWarning)
        write_csv(folder / "team.csv", "Ana,Ruiz,ana@acme.example,,,,")
        imported, _, err = run_quietly("import", "team.csv", "--yes", "--db", url)
        listed, out, _ = run_quietly("users", "--db", url)

        if imported == 0:
            assert (0, 1) == (listed, out.count("ana@acme.example"))
        else:
            assert 2 == imported
            assert 1 == len(err.splitlines())
            if "in memory" in err and not OLD_URL_GRAMMAR:
                assert not kept(url)


# --- the program itself ----------------------------------------------------------


def test_color_only_on_a_terminal(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ANSI colors appear on a terminal, and not when NO_COLOR is set."""
    write_csv(here / "x.csv", "Bo,,bo@acme.example,,,,")
    colored, plain, errors = Terminal(), Terminal(), Terminal()
    monkeypatch.setattr(sys, "stderr", errors)

    monkeypatch.setattr(sys, "stdout", colored)
    cli.main(["check", "x.csv"])
    cli.main(["users", "--as", "nowhere"])
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys, "stdout", plain)
    cli.main(["check", "x.csv"])

    assert "\x1b[31minvalid\x1b[0m" in colored.getvalue()
    assert "userimport: \x1b[31merror\x1b[0m: No organization" in errors.getvalue()
    assert "\x1b[" not in plain.getvalue()


def test_sqlalchemy_missing(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the ``sql`` extra, commands that need the database say how to
    install it (exit 2); ``check`` without a database still works."""
    monkeypatch.setitem(sys.modules, "userimport.sql", None)
    write_csv(here / "x.csv", "Ana,Ruiz,ana@acme.example,,,,")

    imported = cli.main(["import", "x.csv", "--yes"])
    err = capsys.readouterr().err
    checked = cli.main(["check", "x.csv"])

    assert 2 == imported
    assert "pip install 'userimport[sql]'" in err
    assert 0 == checked


def test_public_names() -> None:
    """``userimport.cli`` exposes ``main`` only; the rest is private."""
    # pytest's assertion rewriting adds names starting with "@" to the package.
    public = [name for name in dir(cli) if name.isidentifier() and name[0] != "_"]

    assert ["main"] == cli.__all__
    assert ["main"] == public


def test_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    """No command is a usage error; ``--help`` and ``--version`` exit 0."""
    assert 2 == cli.main([])
    assert 2 == cli.main(["orgs"])
    assert 0 == cli.main(["--help"])
    assert 0 == cli.main(["--version"])
    assert "import" in capsys.readouterr().out


def test_version_from_a_source_tree(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from a source tree (no installed metadata), ``--version`` says so
    instead of failing."""

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)

    assert 0 == cli.main(["--version"])
    assert "unknown" == capsys.readouterr().out.strip()


# --- the documentation -----------------------------------------------------------


def transcripts() -> list[str]:
    """The ``console`` blocks of docs/cli.md."""
    return re.findall(r"```console\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize(
    "transcript",
    [pytest.param(text, id=f"block{n}") for n, text in enumerate(transcripts())],
)
def test_docs_transcripts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transcript: str,
) -> None:
    """Every transcript in docs/cli.md is what the program prints, run in an
    empty folder with copies of the example files (``$ echo $?`` prints the
    last exit status)."""
    for name in ("orgs.csv", "users.csv", "users-with-errors.csv"):
        shutil.copy(EXAMPLES / name, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    status = 0
    for line in transcript.splitlines():
        if line == "$ echo $?":
            screen.write(f"{line}\n{status}\n")
        elif line.startswith("$ "):
            screen.write(line + "\n")
            status = cli.main(shlex.split(line[2:])[1:])

    assert transcript == screen.getvalue()


# --- Excel workbooks -----------------------------------------------------------------


def test_template_as_a_workbook_offers_the_actors_choices(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``template --format xlsx`` writes the workbook template whose lists offer what
    ``--as`` and ``--role`` may use: a manager may not give the role admin."""
    status = cli.main(
        ["template", "--format", "xlsx", "-o", "t.xlsx", "--role", "manager"]
    )

    assert 0 == status
    book = openpyxl.load_workbook(here / "t.xlsx")
    roles = [
        rule.formula1
        for rule in book.worksheets[0].data_validations.dataValidation
        if str(rule.sqref).startswith("E2")
    ]
    assert ['"learner,instructor,manager"'] == roles
    assert "Wrote the template to t.xlsx." in capsys.readouterr().out


def test_template_as_a_workbook_has_no_delimiter(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--delimiter`` with ``--format xlsx`` is a usage error (exit 2)."""
    status = cli.main(["template", "--format", "xlsx", "--delimiter", ";"])

    assert 2 == status
    assert "--delimiter is for the CSV template" in capsys.readouterr().err


def test_template_as_a_workbook_without_the_extra(
    here: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the xlsx extra, ``template --format xlsx`` says what to install."""
    monkeypatch.setattr(_workbook, "available", lambda: False)

    status = cli.main(["template", "--format", "xlsx"])

    assert 2 == status
    assert "userimport[xlsx]" in capsys.readouterr().err


def test_check_and_import_a_workbook(
    here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``check`` and ``import`` take an .xlsx file as they take a CSV file, and say
    it was read as a workbook."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["First name", "Last name", "Email"])
    sheet.append(["Ana", "Núñez", "ana@example.org"])
    book.save(here / "users.xlsx")

    assert 0 == cli.main(["check", "users.xlsx"])
    assert "users.xlsx: 1 row, an Excel workbook" in capsys.readouterr().out
    assert 0 == cli.main(["import", "users.xlsx", "--yes"])
    assert ["ana@example.org"] == stored_emails(here)


@pytest.mark.parametrize(
    ("environment", "option", "expected"),
    [
        ({}, [], "The last name is required"),
        ({"LANG": "es_MX.UTF-8"}, [], "Escribe los apellidos"),
        ({"LANG": "es_ES.UTF-8", "LC_ALL": "en_US.UTF-8"}, [], "The last name is"),
        ({"LANG": "es_ES.UTF-8"}, ["--lang", "en"], "The last name is required"),
        ({}, ["--lang", "es"], "Escribe los apellidos"),
    ],
)
def test_the_review_speaks_the_chosen_language(
    here: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    option: list[str],
    expected: str,
) -> None:
    """``--lang`` chooses the language of the review's messages; without it the
    environment's locale does (LC_ALL, then LC_MESSAGES, then LANG)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    write_csv(here / "x.csv", "Ana,,ana@acme.example,,,,")
    assert 1 == cli.main(["check", "x.csv", *option])
    assert expected in capsys.readouterr().out
