"""``python -m userimport``: the same program as the ``userimport`` command."""

from __future__ import annotations

import sys

from userimport.cli import main

if __name__ == "__main__":
    sys.exit(main())
