"""The one exception the data layer raises for bad input."""


class DataError(ValueError):
    """Bad user input (a corpus, a path, an option): the message is one line naming the problem."""
