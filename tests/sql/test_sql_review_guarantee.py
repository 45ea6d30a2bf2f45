"""Done writes exactly what was reviewed, or nothing: on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings

from review_guarantee import Case, cases, check_review_guarantee
from userimport.sql import SQLStore


def test_commit_writes_the_reviewed_users_or_nothing(
    open_store: Callable[[], SQLStore],
) -> None:
    """The review's guarantee holds on a real database: whatever changes between
    prepare and commit, commit writes exactly the preview's users or nothing."""
    store = open_store()

    @settings(
        suppress_health_check=[
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        max_examples=60,
    )
    @given(cases)
    def check(case: Case) -> None:
        check_review_guarantee(case, store)

    check()
