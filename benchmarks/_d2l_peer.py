"""Where the d2l peer loop and its data are, for the benchmarks that run against it."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The d2l peer loop and its data live beside the checkout (../shared), not in it; a clone
# elsewhere names them (--anchor/--data, or these variables).
ANCHOR = Path(os.environ.get("RNN_TUI_D2L_ANCHOR") or ROOT.parent / "shared/bench/d2l_anchor.py")
DATA = Path(os.environ.get("RNN_TUI_D2L_DATA") or ROOT.parent / "shared/data")


def missing_peer(anchor: Path, data: Path) -> str:
    """One line saying which of the d2l peer's files is missing, or ""."""
    if not anchor.is_file():
        return f"d2l anchor not found at {anchor}; pass --anchor PATH (or set RNN_TUI_D2L_ANCHOR)"
    if not data.is_dir():
        return f"d2l data not found at {data}; pass --data PATH (or set RNN_TUI_D2L_DATA)"
    return ""
