"""Export a checkpoint for shipping: the weights only, stored as float16.

A training checkpoint carries Adam's two moment tensors per weight and float32 weights, three
to four times what generating or translating needs. The export keeps the config, vocabularies
and metrics, drops the optimizer state (so it cannot be resumed) and halves the weights' size;
loading casts them back to float32 (`Checkpoint.load_weights`), so outputs match the float32
model up to float16 rounding of the weights.

    python -m rnn_tui.checkpoints.export RUN_DIR|CHECKPOINT DEST_FOLDER NAME
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from rnn_tui.checkpoints.checkpoint import RESERVED_META_KEYS, load_checkpoint, save_checkpoint


def export_weights(source: str | Path, folder: str | Path, name: str) -> Path:
    """Write checkpoint `name` in `folder` (name.json and the tensor file it names) from
    `source` (a run directory: its best checkpoint); return folder/name.safetensors, its name."""
    checkpoint = load_checkpoint(source)
    model = checkpoint.build_model("cpu").to(torch.float16)
    meta = {k: v for k, v in checkpoint.meta.items() if k not in RESERVED_META_KEYS}
    meta["exported"] = {"from": str(checkpoint.path), "weights": "float16", "optimizer": False}
    return save_checkpoint(folder, name, model, None, meta)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    path = export_weights(*args)
    tensors = load_checkpoint(path).tensors_path
    size = tensors.stat().st_size / 2**20
    print(f"{path.with_suffix('.json')} + {tensors.name} ({size:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
