"""The Rich console the commands print tables with: a reader that leaves early is no error.

Rich turns a broken pipe into `SystemExit(1)` itself, so `rnn-tui stats | head` exited 1
(a failure under `set -o pipefail`) where the commands mean 0: here it is the BrokenPipeError
that `cli.main` answers with status 0, as for any other output.
"""

from __future__ import annotations

import errno

from rich.console import Console as RichConsole


class Console(RichConsole):
    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more is written to the closed pipe
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


__all__ = ["Console"]
