"""Epoch events no trainer writes (an edited metrics.jsonl): `rnn-tui runs` and the Train
screen's follower both ignore them (rnn_tui/runs/series.py `sound_epoch`)."""

IMPLAUSIBLE_EPOCHS = [
    {"event": "epoch", "epoch": "x", "val_ppl": -5},
    {"event": "epoch", "epoch": 99, "val_ppl": -5},
    {"event": "epoch", "epoch": 99, "val_ppl": 0.5},
    {"event": "epoch", "epoch": 0, "val_ppl": 2.0},
    {"event": "epoch", "epoch": True, "val_ppl": 2.0},
    {"event": "epoch", "epoch": 99, "val_ppl": "2"},
    {"event": "epoch", "epoch": 99, "bleu": 101},
]
