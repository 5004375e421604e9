"""The followed run at a glance: status and what it trains, progress with ETA, the latest numbers
with the device and step path they were measured on, and the Pause/Resume and Stop buttons. A
seq2seq run also shows its held-out BLEU (all held-out pairs, and those of at most five English
words) and its pairs instead of a corpus; a classify or tag run, which has no perplexity, its
losses and held-out scores."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from rnn_tui.quoting import plain
from rnn_tui.runs.follow import Snapshot
from rnn_tui.runs.format import (
    fmt_bleu,
    fmt_count,
    fmt_duration,
    fmt_file_name,
    fmt_first_step,
    fmt_mape,
    fmt_number,
    fmt_pairs,
)
from rnn_tui.tui.errors import name_fields
from rnn_tui.tui.widgets.progress import StillProgressBar
from rnn_tui.tui.widgets.train_curves import SCORED
from rnn_tui.tui.widgets.train_form import FIELD_LABELS

STATUS_MARKS = {
    "running": ("●", "green"),
    "paused": ("‖", "yellow"),
    "stopped": ("■", "yellow"),
    "finished": ("✓", "green"),
    "failed": ("✗", "red"),
    "died": ("†", "red"),  # says running/paused, but its trainer is gone
}
PROGRESS_STEPS = 1000
# The bar's widest, its narrowest (narrower, only its percentage shows) and the cells kept for
# the progress line beside it ("epoch 154/400 · 21s elapsed · ETA 33s" and a little more).
BAR_CELLS, BAR_MIN, PROGRESS_ROOM = 24, 8, 40
AUTO_HEIGHT = {"run-metrics"}  # `height: auto`: may wrap onto more rows at narrow widths
VAL_STYLES = {True: "bold dark_orange", False: "bold #b35500"}  # dark, light (ansi_palette's)
# The empty state, short enough for the title row of an 80-column terminal (27 cells there).
NO_RUN = "no run yet: s start, o open"


def describe(snap: Snapshot) -> str:
    """What the run trains: model and size, token level and corpus (or, for seq2seq, the
    pairs: training + held-out), parameters. Where it runs is on the numbers' line
    (`where`), which wraps: at the end of the one-line title it was cut first."""
    cfg = snap.config
    parts = [f"{snap.model} {cfg.get('hidden', '?')}"]
    if isinstance(cfg.get("layers"), int) and cfg["layers"] > 1:
        parts[0] += f"×{cfg['layers']}"
    if cfg.get("bidirectional"):
        parts[0] += " bidir"
    if cfg.get("attention") not in (None, "none"):
        parts[0] += f" +{cfg['attention']} attention"
    if snap.task == "seq2seq":
        parts.append(fmt_pairs(cfg))
    for key in ("token", "corpus"):
        if cfg.get(key):
            parts.append(fmt_file_name(cfg[key]))
    if snap.num_params is not None:
        parts.append(f"{fmt_count(snap.num_params)} params")
    # The values come from the run's files: plain text, whatever they hold.
    return plain(" · ".join(parts))


def where(snap: Snapshot) -> str:
    """The device and, once the trainer says, which way the steps run: "cpu eager · fp32 · DDP
    × 2 (gloo)", "cuda:0 CUDA graph · bf16 (captured in 1.8 s)"."""
    device = snap.device or str(snap.config.get("device") or "?")
    return plain(f"{device} {snap.step_path}" if snap.step_path else device)


@dataclass(frozen=True)
class TitleLine:
    """The title row, fitted to its width: whole where the run's name fits, what follows the
    name cut by an ellipsis; narrower, the name loses its middle, keeping its task and model and
    the time that tells runs apart. The status word always stays: at 80 columns beside the panel
    it was the title's first loss ("■  lm-lstm-20261204-124259…": stopped, or finished?)."""

    forms: tuple[tuple[Text, int], ...]  # (title, cells through the run's name), whole first
    head: Text  # the mark, status word and gap before the name, for the narrowest form
    name: str

    def fitted(self, width: int) -> Text:
        for text, core in self.forms:
            if core <= width:
                return whole_parts(text, core, width)
        keep = width - self.head.cell_len - 1  # the name's characters beside its "…"
        if keep < 6:
            return self.forms[-1][0]
        left = keep // 2
        name = f"{self.name[:left]}…{self.name[len(self.name) - (keep - left) :]}"
        return Text.assemble(self.head, (name, "bold"), no_wrap=True, overflow="ellipsis")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.fitted(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, cell_len(self.forms[0][0].plain))


def whole_parts(text: Text, core: int, width: int) -> Text:
    """`text` cut after the last of its parts past `core` (" · " or two spaces apart) that fits
    `width` with an ellipsis: a part is shown whole or not at all ("lstm 256 bidir · char …",
    not "… · timema…"). Where no part fits, Rich's ellipsis cuts it."""
    if text.cell_len <= width:
        return text
    words = text.plain
    cuts = [
        found.start()
        for found in re.finditer(r" · |  ", words)
        if found.start() >= core and cell_len(words[: found.start()]) + 2 <= width
    ]
    if not cuts:
        return text
    cut = text[: cuts[-1]]
    cut.append(" …", style="dim")
    cut.no_wrap, cut.overflow = True, "ellipsis"
    return cut


def title_line(snap: Snapshot, starting: str | None = None) -> TitleLine:
    """`title_text`'s title in the forms `TitleLine` fits to the header's width."""
    forms = (_title(snap, starting),)
    short, core = forms[-1]
    head = short[: core - cell_len(snap.name)]
    return TitleLine(forms, head, snap.name)


def title_text(snap: Snapshot, starting: str | None = None) -> Text:
    """Status mark and word, run name, what it trains; `starting` (not None): a trainer this
    app started that has not written its status yet (it is loading torch and the corpus), with
    the last line it logged ("tokenizing wiki.txt: 45 %"), if any."""
    return _title(snap, starting)[0]


def _title(snap: Snapshot, starting: str | None) -> tuple[Text, int]:
    """The title (one line, cut by an ellipsis) and the cells it takes through the name."""
    mark, style = STATUS_MARKS.get(snap.status, ("?", "dim"))
    status = snap.status
    note = ""
    if starting is not None and status == "unknown":
        mark, style, status = "◌", "yellow", "starting"
        note = starting
    text = Text.assemble((f"{mark} {status}", f"bold {style}"), "  ", (snap.name, "bold"))
    text.no_wrap, text.overflow = True, "ellipsis"
    core = text.cell_len
    if note:
        text.append(f"  {plain(note)}", style="yellow")
    if snap.config:
        text.append(f"  {describe(snap)}", style="dim")
    if snap.status in ("failed", "died") and snap.message:
        text.append(f"  {name_fields(snap.message, FIELD_LABELS)}", style="red")
    return text, core


def progress_parts(snap: Snapshot) -> tuple[tuple[str, str], ...]:
    """The progress line's parts, each with its kind: "epoch", "batch", "elapsed", "end"."""
    epochs = snap.epochs if snap.epochs is not None else "?"
    if snap.batch and snap.batches:
        # Partway through an epoch: the one under way, as the trainer's own lines count it
        # ("stopped in epoch 4 after minibatch 76/137"), not the epochs completed before it.
        parts = [("epoch", f"epoch {snap.epoch + 1}/{epochs}")]
        parts.append(("batch", f"batch {snap.batch}/{snap.batches}"))
    else:
        parts = [("epoch", f"epoch {snap.epoch}/{epochs}")]
    # A slow first step says so where the time elapsed (none logged yet) would be: at 80
    # columns beside the panel the title had no room left for it.
    first = fmt_first_step(snap.first_step_s, snap.step_path) if snap.status == "running" else ""
    parts.append(
        ("first", first) if first else ("elapsed", f"{fmt_duration(snap.elapsed)} elapsed")
    )
    if snap.status == "finished":
        parts.append(("end", "done"))
    elif snap.active and snap.status != "paused":  # paused, no time to the end is counting
        # The estimate ran out but the trainer is still at work (a last slow epoch, the final
        # checkpoint): "ETA 0s" for seconds would be wrong.
        ran_out = snap.eta is not None and snap.eta < 0.5
        parts.append(("end", "finishing" if ran_out else f"ETA {fmt_duration(snap.eta)}"))
    return tuple(parts)


def progress_text(snap: Snapshot) -> str:
    return " · ".join(text for _, text in progress_parts(snap))


# What a narrow progress line gives up first: the batch, then the time elapsed, then the epoch;
# the ETA (or "done") stays. At 80 columns the line was cut after "epoch 9/12 ·".
LEAST_NEEDED = ("batch", "elapsed", "epoch")


@dataclass(frozen=True)
class ProgressLine:
    """The progress line fitted to its width: whole where it fits, else without its least
    needed parts (LEAST_NEEDED), one at a time."""

    parts: tuple[tuple[str, str], ...]

    def fitted(self, width: int) -> str:
        parts = list(self.parts)
        for kind in ("", *LEAST_NEEDED):
            parts = [p for p in parts if p[0] != kind]
            line = " · ".join(text for _, text in parts)
            if cell_len(line) <= width:
                break
        return line


class ProgressText(Static):
    """The progress line, fitted to the width it is given each time it is drawn."""

    line: ProgressLine | None = None

    def show(self, line: ProgressLine) -> None:
        if line != self.line:
            self.line = line
            self.refresh()

    def render(self) -> str:
        return self.line.fitted(self.content_size.width) if self.line else ""


def _latest(snap: Snapshot, name: str) -> float | None:
    """The last value of one of the run's per-epoch series."""
    ys = snap.series[name][1] if name in snap.series else ()
    return float(ys[-1]) if len(ys) else None


def metrics_text(snap: Snapshot, memory_mb: float | None, system: str = "", dark=True) -> Text:
    """The latest numbers, labelled: the last finished epoch's ("epoch 3:") and, partway through
    an epoch, its steps' ("now:": the latest steps' loss and gradient norm, tokens/s while it
    runs); then, while a trainer works, the system strip (FollowedRuns.system_text) below."""
    text = Text()
    if snap.status in ("failed", "died") and snap.message:
        # Why it failed, first and whole: the title's end is cut, the notification fades.
        text.append(f"{name_fields(snap.message, FIELD_LABELS)}\n", style="red")
    fresh = [True]  # no separator right after a group's label
    start = len(text)  # the figures begin here

    def group(label: str) -> None:
        text.append(f"{' │ ' if len(text) > start else ''}{label} ", style="dim")
        fresh[0] = True

    def item(label: str, value: str, style: str = "") -> None:
        if len(text) > start and not fresh[0]:
            text.append(" · ", style="dim")
        fresh[0] = False
        text.append(f"{label} ", style="dim")
        text.append(value, style=style or "bold")

    # Step figures (batch > 0) are the current epoch's; else the epoch event's, like ppl.
    now = bool(snap.batch) and snap.loss is not None
    if snap.epoch:
        group(f"epoch {snap.epoch}:")
    if snap.task in SCORED:
        # No perplexity: "train ppl — · val —" said nothing. Its losses and its scores instead.
        item("train loss", fmt_number(_latest(snap, "train_loss")), "bold cyan")
        item("val", fmt_number(_latest(snap, "val_loss")), VAL_STYLES[dark])
        for i, (key, name) in enumerate(SCORED[snap.task]):
            score = _latest(snap, key)
            item(name, "—" if score is None else f"{score:.3f}", "" if i else "bold green")
    elif snap.task == "forecast":
        # No perplexity either: its squared-error losses and the held-out 1-step errors.
        item("train loss", fmt_number(_latest(snap, "train_loss")), "bold cyan")
        item("val", fmt_number(_latest(snap, "val_loss")), VAL_STYLES[dark])
        item("RMSE", fmt_number(_latest(snap, "rmse")), "bold green")
        mape = _latest(snap, "mape")
        item("MAPE", "—" if mape is None else f"{fmt_mape(mape)} %")
    else:
        item("train ppl", fmt_number(snap.train_ppl), "bold cyan")
        val = fmt_number(snap.val_ppl)
        if snap.best_val_ppl is not None and snap.best_val_ppl != snap.val_ppl:
            val += f" (best {fmt_number(snap.best_val_ppl)})"
        item("val", val, VAL_STYLES[dark])
    if snap.task == "seq2seq":
        bleu = fmt_bleu(snap.bleu)
        if snap.bleu_short is not None:
            bleu += f" (≤5 words {fmt_bleu(snap.bleu_short)})"
        if snap.best_bleu is not None and snap.best_bleu != snap.bleu:
            bleu += f" best {fmt_bleu(snap.best_bleu)}"
        item("BLEU", bleu, "bold green")
    if snap.baseline_ppl is not None:
        item(snap.baseline_name, fmt_number(snap.baseline_ppl), "")
    if snap.lr is not None:  # from the epoch events: the last epoch's
        item("lr", fmt_number(snap.lr))
    if now:
        group("now:")
    item("loss", fmt_number(snap.loss))
    item("‖g‖", fmt_number(snap.grad_norm))
    # Paused or stopped mid-epoch, no steps run: a rate "now" would be over no steps.
    if not now or snap.status == "running":
        item("tok/s", fmt_count(snap.tokens_per_s))
        text.append(f" ({where(snap)})", style="dim")  # what the speed was measured on
    on_gpu = (snap.device or "").startswith("cuda")
    if memory_mb is not None:
        item("GPU mem" if on_gpu else "mem", f"{memory_mb:,.0f} MB")
    if system:
        text.append("\n")
        text.append(system, style="dim")
    return text


class RunHeader(Vertical):
    """Status line with the run's buttons, a progress bar with ETA, and the latest numbers."""

    DEFAULT_CSS = """
    RunHeader {
        height: auto;
    }
    RunHeader #run-title-row,
    RunHeader #run-progress-row {
        height: 1;
    }
    RunHeader #run-title {
        width: 1fr;
    }
    RunHeader Button {
        margin: 0 0 0 1;
        min-width: 8;
    }
    RunHeader #run-progress {
        width: auto;
    }
    RunHeader #run-progress Bar {
        width: 24;  /* BAR_CELLS; on_resize narrows it */
    }
    RunHeader #run-eta {
        width: 1fr;
        padding: 0 0 0 1;
        color: $text-muted;
    }
    RunHeader #run-metrics {
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="run-title-row"):
            yield Static(
                NO_RUN,
                id="run-title",
                markup=False,
            )
            yield Button("Pause", id="pause", compact=True, disabled=True, tooltip="Pause (p)")
            yield Button(
                "Stop",
                id="stop",
                variant="error",
                compact=True,
                disabled=True,
                tooltip="Stop: finish the batch, save a checkpoint, exit (x)",
            )
        with Horizontal(id="run-progress-row"):
            yield StillProgressBar(
                total=PROGRESS_STEPS, show_eta=False, show_percentage=True, id="run-progress"
            )
            yield ProgressText("", id="run-eta", markup=False)
        yield Static("", id="run-metrics", markup=False)

    def on_mount(self) -> None:
        self.query_one("#run-progress-row").display = False
        self._drawn: dict[str, object] = {}
        self._phase: tuple[object, ...] | None = None  # run, status, trainer at work: drawn last

    def on_resize(self) -> None:
        """The bar yields to the progress line: narrower, then hidden (its percentage stays)."""
        room = self.content_size.width - 6 - PROGRESS_ROOM  # 6: the percentage and a gap
        bar = self.query_one("#run-progress Bar")
        bar.display = room >= BAR_MIN
        if bar.display:
            bar.styles.width = min(BAR_CELLS, room)

    def _update(
        self, widget_id: str, content: str | RenderableType, *, shrink: bool = True
    ) -> None:
        """Draw `content`; `shrink=False` keeps a wrapped text's rows when it needs fewer."""
        # The header is redrawn on every poll: repaint (and send over SSH) only what changed.
        if self._drawn.get(widget_id) == content:
            return
        self._drawn[widget_id] = content
        static = self.query_one(f"#{widget_id}", Static)
        # A layout pass reflows the whole screen and resizes the plots below, which then build
        # their figures again (about 0.1 s of CPU on 2 cores, taken from the trainer): only when
        # the text's wrapped height changes, the title and ETA rows never.
        static.update(content, layout=False)
        width = static.content_size.width
        if widget_id not in AUTO_HEIGHT:
            return
        rows = static.content_size.height
        if not width:
            static.refresh(layout=True)
            return
        needed = static.get_content_height(static.content_size, self.app.size, width)
        if needed > rows or (shrink and needed < rows):
            static.refresh(layout=True)

    def show(
        self,
        snap: Snapshot | None,
        memory_mb: float | None = None,
        starting: str | None = None,
        system: str = "",
        reading: str = "",
    ) -> None:
        """Draw `snap` (None: the empty state, or `reading` while a run opened is first read);
        cheap, so it runs on every poll."""
        pause = self.query_one("#pause", Button)
        stop = self.query_one("#stop", Button)
        self.query_one("#run-progress-row").display = snap is not None
        if snap is None:
            self._phase = None
            self._update("run-title", reading or NO_RUN)
            self._update("run-metrics", "")
            pause.disabled = stop.disabled = True
            return
        self._update("run-title", title_line(snap, starting))
        self.query_one("#run-progress", ProgressBar).update(
            progress=round(snap.progress * PROGRESS_STEPS)
        )
        self.query_one(ProgressText).show(ProgressLine(progress_parts(snap)))
        # While one run keeps its status (and its trainer), its numbers' line keeps the rows it
        # has had: numbers that change length wrapped it onto one more row and back every few
        # seconds, and each time the plots below moved and were built again.
        phase = (snap.path, snap.status, bool(system))
        same, self._phase = phase == self._phase, phase
        figures = metrics_text(snap, memory_mb, system, self.app.current_theme.dark)
        self._update("run-metrics", figures, shrink=not same)
        label = "Resume" if snap.status == "paused" else "Pause"
        if pause.label != label:
            pause.label = label
            pause.tooltip = f"{label} (p)"
        pause.disabled = not snap.active
        stop.disabled = not (snap.active or starting is not None)  # starting: x stops it too
