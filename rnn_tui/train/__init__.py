"""Training: one engine (engine.py) that drives a task (tasks/) through a small interface.

Importing this package stays light (no torch): the CLI parser and the Train form read the task
registry and the options declared in `options.py` before torch is loaded. The engine and the
task modules import torch themselves.
"""
