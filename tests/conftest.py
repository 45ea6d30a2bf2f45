"""Test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by scripts/check) runs more examples with no deadline
(the CI machine is shared and noisy); ``dev`` is the quick default.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
