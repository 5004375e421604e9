"""The Classify screen's three forms: which options of each part's task they show (the rest
keep their defaults; the CLI has them all). The bidirectional-LM demo's form starts from the
seeds' preset (train/options.py BIDIRECTIONAL_LM); whether it reads both ways is what its two
runs vary."""

from __future__ import annotations

from rnn_tui.options import Option, with_changes
from rnn_tui.runs.classify_lab import BILM, NAMES, TAG
from rnn_tui.train.options import BIDIRECTIONAL_LM, LM_OPTIONS
from rnn_tui.train.registry import TASKS
from rnn_tui.tui.widgets.options_form import OptionsForm

NAME_FIELDS = ("balance", "model", "bidirectional", "hidden", "layers", "embed", "epochs")
NAME_FIELDS += ("max_names", "lr", "seed")
TAG_FIELDS = ("model", "hidden", "layers", "embed", "num_steps", "epochs", "max_chars", "seed")
BILM_FIELDS = ("model", "hidden", "max_tokens", "epochs", "seed")


def declared(task: str, names: tuple[str, ...]) -> list[Option]:
    spec = TASKS[task]
    return [spec.option(name) for name in names]


# The trainers' flags as the forms' fields, for their messages ("try a smaller lr").
FIELD_LABELS = {
    o.flag: o.title
    for task, names in (("classify", NAME_FIELDS), ("tag", TAG_FIELDS))
    for o in declared(task, names)
}


def bilm_options() -> list[Option]:
    """The LM options of the demo's form, with the preset's values as their defaults."""
    by_name = {option.name: option for option in LM_OPTIONS}
    return [
        with_changes(by_name[name], default=BIDIRECTIONAL_LM[name])
        if name in BIDIRECTIONAL_LM
        else by_name[name]
        for name in BILM_FIELDS
    ]


def part_form(part: str) -> OptionsForm:
    """The part's form, id `cl-form-{part}`, fields `cl-{part}-{option}`."""
    if part == NAMES:
        return OptionsForm(declared("classify", NAME_FIELDS), f"cl-{NAMES}", id=f"cl-form-{NAMES}")
    if part == TAG:
        return OptionsForm(
            declared("tag", TAG_FIELDS),
            f"cl-{TAG}",
            "Start trains two taggers: one reading left to right, one both ways.",
            id=f"cl-form-{TAG}",
        )
    if part == BILM:
        return OptionsForm(
            bilm_options(),
            f"cl-{BILM}",
            "Start trains this LM one way and both ways (the seeds' warning).",
            id=f"cl-form-{BILM}",
        )
    raise ValueError(f"no such part: {part!r}")


__all__ = ["BILM_FIELDS", "NAME_FIELDS", "TAG_FIELDS", "part_form"]
