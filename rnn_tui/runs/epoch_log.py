"""The last epoch a run's metrics.jsonl logged, read from its end.

A trainer saves its checkpoints before it logs the epoch (a UI that sees the event finds them on
disk), so a trainer killed between the two left a checkpoint of epoch N with no epoch N line; a
resume continued from N + 1 and the log kept the gap. The engine compares this with the
checkpoint's epoch on resume and logs what is missing from the checkpoint's history.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnn_tui.files import open_regular
from rnn_tui.runs.line_tail import MAX_LINE_BYTES, READ_PIECE, epoch_lines, parse_line
from rnn_tui.runs.series import epoch_problem


def last_logged_epoch(path: Path, piece: int = READ_PIECE) -> int:
    """The epoch of the last epoch event in the metrics file `path` a trainer could have
    written (0: none, or no readable file). Read backwards a piece at a time: the last epoch
    of a 120 MB log is near its end."""
    try:
        f = open_regular(path)
    except OSError:
        return 0
    with f:
        end = os.fstat(f.fileno()).st_size
        carried = b""  # the start of a line whose beginning is in the piece before
        while end > 0:
            start = max(0, end - piece)
            f.seek(start)
            block = f.read(end - start) + carried
            first = block.find(b"\n") + 1 if start else 0
            if start and not first:  # no line ends in this piece: all of it is carried
                # … unless it is longer than any event: then it is none, and is dropped.
                carried, end = (block if len(block) <= MAX_LINE_BYTES else b""), start
                continue
            carried = block[:first]
            for line in reversed(list(epoch_lines(block, first))):
                event = parse_line(line)
                if event is not None and event.get("event") == "epoch":
                    if epoch_problem(event) is None:
                        return event["epoch"]
            end = start
    return 0


__all__ = ["last_logged_epoch"]
