"""``userimport users``: the Users screen in a terminal, searched and paged."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

from userimport import cli

EXAMPLES = Path(__file__).parent.parent / "examples"

#: The example users, in email-key order.
EVERYONE = [
    "Alan.Turing@acme.example",
    "carmen.ruiz@acme.example",
    "grace@acme.example",
    "jose.nunez@acme.example",
    "lucia.fernandez@acme.example",
    "oyvind.muller@acme.example",
]


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A folder whose database holds the example organizations and users."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("orgs.csv", "users.csv"):
        shutil.copy(EXAMPLES / name, tmp_path)
    assert 0 == cli.main(["orgs", "load", "orgs.csv"])
    assert 0 == cli.main(["import", "users.csv", "--yes"])
    capsys.readouterr()
    return tmp_path


def emails(out: str) -> list[str]:
    """The emails of the users listed in ``out`` (the first cell of table rows)."""
    return [line.split()[0] for line in out.splitlines() if "@" in line.split()[0]]


def test_search_ignores_case_and_accents(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--search NUNEZ`` finds José Núñez; ``--search "ruiz lo"`` finds Carmen
    Ruiz López; a search that matches nobody lists nobody."""
    found = {}
    for search in ("NUNEZ", "ruiz lo", "zzz"):
        assert 0 == cli.main(["users", "--search", search])
        found[search] = capsys.readouterr().out

    assert ["jose.nunez@acme.example"] == emails(found["NUNEZ"])
    assert found["NUNEZ"].endswith("\n1 user.\n")
    assert ["carmen.ruiz@acme.example"] == emails(found["ruiz lo"])
    assert "0 users.\n" == found["zzz"]


def test_limit_writes_one_page_and_says_how_to_get_the_next(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not on a terminal, ``--limit 4`` writes the first 4 users and what to add
    for the next ones; adding it gives the rest, and a last page ends with the
    count."""
    assert 0 == cli.main(["users", "--limit", "4"])
    first = capsys.readouterr().out
    assert 0 == cli.main(
        ["users", "--limit", "4", "--after", "jose.nunez@acme.example"]
    )
    rest = capsys.readouterr().out

    assert EVERYONE[:4] == emails(first)
    assert first.endswith(
        "\n4 users shown; for the next ones, add: --after jose.nunez@acme.example\n"
    )
    assert EVERYONE[4:] == emails(rest)
    assert rest.endswith("\n2 users.\n")


def test_after_takes_any_spelling_of_the_email(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--after`` is compared by email key: its case does not matter."""
    assert 0 == cli.main(["users", "--after", "GRACE@Acme.Example"])

    assert EVERYONE[3:] == emails(capsys.readouterr().out)


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_a_limit_must_be_a_positive_number(
    imported: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    """``--limit`` below 1, or not a number, is a usage error (exit 2)."""
    status = cli.main(["users", "--limit", limit])

    assert 2 == status
    assert "--limit" in capsys.readouterr().err


def test_pages_follow_each_other_on_a_terminal(
    imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the pages of ``--limit 2`` follow each other, each after Enter,
    and the count of everyone shown ends the list."""
    screen = Terminal()
    monkeypatch.setattr(sys, "stdin", Terminal("\n\n"))
    monkeypatch.setattr(sys, "stdout", screen)

    assert 0 == cli.main(["users", "--limit", "2"])

    out = screen.getvalue()
    assert EVERYONE == emails(out)
    assert 2 == out.count("-- Enter: the next page; q: stop --")
    assert 3 == out.count("email ")  # each page has its header
    assert out.endswith("\n6 users.\n")


@pytest.mark.parametrize("answer", ["q\n", ""], ids=["q", "end of input"])
def test_q_stops_the_pages(
    imported: Path, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """``q`` (or the end of the input) at the prompt stops, saying what to add for
    the next ones."""
    screen = Terminal()
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    monkeypatch.setattr(sys, "stdout", screen)

    assert 0 == cli.main(["users", "--limit", "4", "--search", "acme"])

    out = screen.getvalue()
    assert EVERYONE[:4] == emails(out)
    assert out.endswith(
        "4 users shown; for the next ones, add: --after jose.nunez@acme.example\n"
    )


def test_a_terminal_gets_a_screenful_by_default(
    imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``--limit``, a terminal gets as many users as fit its window (with
    the header and the prompt), at least 5."""
    screen = Terminal()
    monkeypatch.setattr(sys, "stdin", Terminal("q\n"))
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setenv("LINES", "8")
    monkeypatch.setenv("COLUMNS", "200")

    assert 0 == cli.main(["users"])

    assert EVERYONE[:5] == emails(screen.getvalue())


def test_users_without_a_database_with_search_and_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before any import there is nobody to find, and no database is created."""
    monkeypatch.chdir(tmp_path)

    assert 0 == cli.main(["users", "--search", "ana", "--limit", "3"])

    assert "0 users.\n" == capsys.readouterr().out
    assert not (tmp_path / "userimport.db").exists()
