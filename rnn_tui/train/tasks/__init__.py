"""The training tasks, one module each (the interface is rnn_tui.train.task.Task; the list is
rnn_tui.train.registry.TASKS). Each module ends with `TASK = <its class>`."""
