"""The main job end to end, on the embedded default store (SQLite).

Loads the organizations of ``examples/orgs.csv`` into an SQLite database, reviews
``examples/users.csv`` (a Windows Excel export: cp1252, ``;``, CRLF) as the root
administrator, prints the review, commits it and lists the users the administrator
sees. Run it from anywhere::

    python examples/quickstart.py [DATABASE_URL]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import userimport
from userimport.hierarchy import organizations_from_csv
from userimport.sql import SQLStore

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    """Run the import; return the exit status (0 done, 1 the data has errors)."""
    with tempfile.TemporaryDirectory() as folder:
        url = argv[0] if argv else f"sqlite:///{folder}/quickstart.db"
        store = SQLStore(url)
        try:
            return run(store)
        finally:
            store.close()


def run(store: SQLStore) -> int:
    """Review and import examples/users.csv into ``store``."""
    store.create_schema()
    orgs_text = (HERE / "orgs.csv").read_text(encoding="utf-8")
    store.add_organizations(organizations_from_csv(orgs_text))
    tree = store.org_tree()
    actor = userimport.Actor("root", userimport.Role.ADMIN)

    preview = userimport.prepare(
        (HERE / "users.csv").read_bytes(), actor=actor, orgs=tree, store=store
    )
    print(f"encoding {preview.encoding}, delimiter {preview.delimiter!r}")
    for issue in preview.file_issues:
        print(f"  file: {issue.severity}: {issue.message}")
    for row in preview.rows:
        print(f"  row {row.row}: {row.action.value:8} {row.values['email']}")
        for issue in row.issues:
            print(f"      {issue.severity} {issue.code}: {issue.message}")
    print(f"summary: {preview.summary}")
    if not preview.can_commit:
        return 1

    result = userimport.commit(
        preview, actor=actor, orgs=tree, store=store, skip_invalid=True
    )
    print(
        f"created {result.created}, updated {result.updated}, "
        f"skipped {result.skipped}, invalid {result.invalid}"
    )
    for user in userimport.visible_users(actor, tree, store):
        path = " / ".join(tree.path(user.organization))
        print(f"  {user.email:32} {user.first_name} {user.last_name} ({path})")
    return 0 if preview.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
