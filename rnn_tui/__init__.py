"""rnn-tui: explore recurrent neural networks end to end, in the terminal."""

__version__ = "0.1.0"
