"""Renderables for the pairs panel: raw text with its special spaces shown, length stats, and
one sentence through `build_array_nmt` (ids + <eos>, truncate_pad to num_steps, valid length)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text

from rnn_tui.data.translation import EOS, PAD

# The spaces preprocess_nmt turns into plain ones; drawn so the change is visible.
SPECIAL_SPACES = {"\u202f": "narrow no-break space U+202F", "\xa0": "no-break space U+00A0"}
SPACE_MARK = "⍽"


def show_spaces(raw: str) -> Text:
    """Raw text with each special space drawn as a highlighted ⍽."""
    text = Text()
    for char in raw:
        if char in SPECIAL_SPACES:
            text.append(SPACE_MARK, "bold reverse")
        else:
            text.append(char)
    return text


def stats_table(rows: list[tuple[str, dict, int]]) -> Table:
    """Per side: sentences, mean / median / max tokens per sentence, vocabulary size."""
    table = Table(
        box=None,
        pad_edge=False,
        padding=(0, 2),
        header_style="bold",
        caption="tokens per sentence; vocabulary sizes count <unk> <pad> <bos> <eos>",
        caption_justify="left",
    )
    table.add_column("side")
    for name in ("sentences", "mean", "median", "max"):
        table.add_column(name, justify="right")
    table.add_column("vocab (min_freq 2)", justify="right")
    for side, stats, vocab_size in rows:
        table.add_row(
            side,
            f"{stats['count']:,}",
            f"{stats['mean']:.2f}",
            f"{stats['median']:g}",
            str(stats["max"]),
            f"{vocab_size:,}",
        )
    return table


@dataclass
class PaddedSentence:
    """One side of a pair as the model receives it (d2l build_array_nmt on one line)."""

    title: str
    shown: list[str]  # truncate_pad(tokens + [<eos>], num_steps, <pad>): the tokens as typed
    ids: list[int]  # the build_array_nmt row
    unknown: set[int]  # positions whose token is not in the vocabulary (mapped to <unk>)
    dropped: list[str]  # tokens (possibly <eos>) cut off by truncation
    valid_len: int

    def table(self) -> Group:
        """A heading with the valid length, then position | token | id | note: pads dimmed,
        truncated tokens struck through."""
        table = Table(
            box=None,
            pad_edge=False,
            padding=(0, 1),
            header_style="bold",
        )
        table.add_column("pos", justify="right")
        table.add_column("token")
        table.add_column("id", justify="right")
        table.add_column("note", style="dim")
        for pos, (token, token_id) in enumerate(zip(self.shown, self.ids, strict=True)):
            if token == PAD:
                table.add_row(str(pos), token, str(token_id), "padding", style="dim")
            elif token == EOS:
                table.add_row(str(pos), token, str(token_id), "end of sentence", style="green")
            elif pos in self.unknown:
                table.add_row(
                    str(pos), token, str(token_id), "not in vocab → <unk>", style="yellow"
                )
            else:
                table.add_row(str(pos), token, str(token_id), "")
        for token in self.dropped:
            table.add_row("✂", token, "", "truncated", style="red strike")
        heading = Text.assemble(
            (self.title, "bold"), f": valid length {self.valid_len} of {len(self.ids)}"
        )
        return Group(heading, table)
