"""The program: parse the arguments, run the command, turn failures into exit
statuses. Every failure a user can cause is one line on stderr, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from userimport.cli._console import EXIT_DATA, EXIT_USAGE, CommandError, error
from userimport.cli._parser import build_parser
from userimport.exceptions import CommitBlocked, CommitConflict, UserImportError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``userimport`` command line and return its exit status.

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 success, 1 the data has errors, 2 usage or environment error.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        status: int = args.handler(args)
    except CommandError as exc:
        error(str(exc))
        return exc.status
    except CommitBlocked as exc:
        error(str(exc))
        return EXIT_DATA
    except (CommitConflict, UserImportError) as exc:
        # A conflict means another writer changed the users meanwhile: run again.
        error(str(exc))
        return EXIT_USAGE
    except OSError as exc:
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A transaction cut short is rolled back; 128 + SIGINT, as shells report.
        error("Interrupted.")
        return 130
    return status
