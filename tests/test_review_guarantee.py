"""Done writes exactly what was reviewed, or nothing: on the MemoryStore."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from review_guarantee import Case, cases, check_review_guarantee
from userimport import MemoryStore


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(cases)
def test_commit_writes_the_reviewed_users_or_nothing(case: Case) -> None:
    """Whatever changes between prepare and commit (organizations renamed, moved or
    deleted, an email created, the actor demoted, other options, an edited
    preview), commit writes exactly the preview's users or raises with nothing
    written."""
    check_review_guarantee(case, MemoryStore())
