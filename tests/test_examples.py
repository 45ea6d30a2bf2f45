"""The examples in examples/ run as documented."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_quickstart_imports_the_example_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/quickstart.py imports every user of examples/users.csv into SQLite."""
    module = runpy.run_path(str(EXAMPLES / "quickstart.py"))
    status = module["main"]([f"sqlite:///{tmp_path}/quick.db"])
    out = capsys.readouterr().out
    assert 0 == status
    assert "encoding cp1252, delimiter ';'" in out
    assert "created 6, updated 0, skipped 0, invalid 0" in out
    assert "Acme Learning / Spain / Madrid" in out
