"""One logging convention for every cbt command: results on stdout, diagnostics on stderr.

    log = logging.getLogger(__name__)       # at the top of a module; log.info / log.warning
    add_verbosity(parser)                   # the command's -v/--verbose and -q/--quiet
    configure(args)                         # once, right after parsing

A diagnostic is the message alone on one stderr line, as print() wrote it. The levels:

    default      cbt's info lines and warnings, and other libraries' warnings
    --verbose    cbt's debug lines too (the command's options, for one)
    --quiet      warnings only: nothing when all goes well

Errors that end a command stay what they were (`prog: error: ...` from run_cli, or sys.exit);
progress bars (tqdm) are not logging and are unchanged. Without configure() (cbt used as a
library) logging's own default applies: warnings reach stderr, info lines do not.
"""

from __future__ import annotations

import argparse
import logging
import sys

# the loggers configure() sets the level of: the packages' (logging.getLogger(__name__) in
# their modules) and the scripts' (run as __main__)
OWN = ("cbt_schema", "cbt_seeds", "cbt_datagen", "cbt_dataset", "cbt_train", "cbt_infer",
       "cbt_eval", "__main__")

log = logging.getLogger(__name__)


class _Stderr(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line (pytest's capture, a redirect), not as it was
    when the handler was made."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    def filter(self, record: logging.LogRecord) -> bool:
        """cbt's lines at their loggers' level; another library's from warnings up, as
        logging's own last-resort handler shows them (a library may lower its own level)."""
        return (record.levelno >= logging.WARNING or record.name.split(".")[0] in OWN) \
            and super().filter(record)


_HANDLER = _Stderr()
_HANDLER.setFormatter(logging.Formatter("%(message)s"))


def add_verbosity(*parsers: argparse.ArgumentParser) -> None:
    """Give each parser -v/--verbose and -q/--quiet. Unset flags leave no attribute, so a
    command and its subcommands can all take them (`cbt-train -q train` or `cbt-train train
    -q`) without the subcommand's default hiding the command's."""
    for parser in parsers:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="also debug lines on stderr")
        group.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="only warnings on stderr, no info lines")


def level(args: argparse.Namespace | None) -> int:
    """The level --verbose / --quiet ask for (--quiet wins when both are given)."""
    if getattr(args, "quiet", False):
        return logging.WARNING
    if getattr(args, "verbose", False):
        return logging.DEBUG
    return logging.INFO


def configure(args: argparse.Namespace | None = None) -> None:
    """Send log lines to stderr at the level `args` asks for. Calling it again (tests run
    many commands in one process) replaces the level, never adds a second handler."""
    root = logging.getLogger()
    if _HANDLER not in root.handlers:
        root.addHandler(_HANDLER)
    for name in OWN:
        logging.getLogger(name).setLevel(level(args))
    if args is not None:
        log.debug("options: %s", {k: str(v) for k, v in sorted(vars(args).items())})
