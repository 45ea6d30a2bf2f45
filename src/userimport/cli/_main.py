"""The program: parse the arguments, run the command, turn failures into exit
statuses. Every failure a user can cause is one line on stderr, never a traceback,
in the language of ``--lang``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from userimport._messages import message
from userimport.cli._console import EXIT_DATA, EXIT_USAGE, CommandError, error, reason
from userimport.cli._parser import build_parser, chosen_language
from userimport.exceptions import CommitBlocked, CommitConflict, UserImportError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``userimport`` command line and return its exit status.

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).

    Returns:
        0 success, 1 the data has errors, 2 usage or environment error.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(chosen_language(arguments)).parse_args(arguments)
    except SystemExit as exc:  # argparse has printed the usage or the help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    lang: str = args.lang
    try:
        status: int = args.handler(args)
    except CommandError as exc:
        error(exc.message, lang)
        return exc.status
    except CommitBlocked as exc:
        error(reason(exc), lang)
        return EXIT_DATA
    except (CommitConflict, UserImportError) as exc:
        # A conflict means another writer changed the users meanwhile: run again.
        error(reason(exc), lang)
        return EXIT_USAGE
    except OSError as exc:
        error(str(exc), lang)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # A transaction cut short is rolled back; 128 + SIGINT, as shells report.
        error(message("Interrupted."), lang)
        return 130
    return status
