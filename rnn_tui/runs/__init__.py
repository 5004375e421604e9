"""Runs: run directories, following a live run, listing runs, discovering checkpoints, and
starting/steering a training process.

Neither torch nor Textual is imported here: the app lists and follows runs before (or without)
loading torch, and the CLI's `runs` command stays fast. A trainer writes a run directory through
the small interface `rnn_tui.train.engine` declares; `RunDir` is its implementation.
"""
