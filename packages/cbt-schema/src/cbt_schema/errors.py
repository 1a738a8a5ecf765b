"""User-facing errors and the CLI wrapper that turns them into one clear line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

USER_ERROR_EXIT = 2


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2, no traceback."""

    exit_code = USER_ERROR_EXIT


def run_cli(prog: str, main: Callable[[list[str]], int | None],
            argv: Sequence[str] | None = None) -> int:
    """Run main(argv); a UserError becomes `prog: error: message` on stderr and exit 2.

    Pass --debug anywhere to see the traceback instead.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    try:
        return int(main(args) or 0)
    except UserError as exc:
        if debug:
            raise
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
