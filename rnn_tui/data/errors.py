"""The one exception the data layer raises for bad input."""


class DataError(ValueError):
    """Bad user input (a corpus, a path, an option): the message is one line naming the problem."""


def nothing_left(source: str, mode: str) -> DataError:
    """The error for a corpus with no token after cleaning. In the seeds' clean mode that is
    often a text in another script (it keeps the letters A–Z only), so the line says what
    keeps it: raw mode. Raw mode cleans nothing: there the text holds only whitespace."""
    if mode != "clean":
        return DataError(f"no tokens in {source}: it holds only whitespace")
    hint = " (clean mode keeps only the letters A-Z; raw mode keeps the text as written)"
    return DataError(f"nothing left after cleaning: {source}{hint}")
