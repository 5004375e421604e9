"""`rnn-tui gradients`: backpropagation through time measured on one cell (d2l §8.7) — the norm
of ∂L_T/∂h_t at every step, ρ(W_hh), the closed form for a linear cell, clipping and truncation.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse
import math

from rnn_tui.cli.output import TerminalProgress, fail, print_json, warn

ROWS = 10  # steps listed in the table (evenly spaced, the first and the last included)
FRESH_ONLY = ("cell", "init_scale", "gate_bias", "hidden")  # what a checkpoint's cell replaces


def run(args: argparse.Namespace) -> int:
    from rnn_tui.probe.cell import ProbeError
    from rnn_tui.probe.options import GRADIENT_OPTIONS
    from rnn_tui.probe.report import gradient_report

    options = {option.name: getattr(args, option.name) for option in GRADIENT_OPTIONS}
    typed = getattr(args, "typed", lambda name: False)
    if typed("text") and not options["text"]:
        # Not quietly random tokens: an empty text typed is more likely a slip than a choice.
        return fail("--text is empty: give a text to read, or leave --text out for random tokens")
    if options["text"] and not options["checkpoint"]:
        return fail("--text is read by a checkpoint's model: give --checkpoint too")
    if options["checkpoint"]:
        # They shape a fresh cell, which a checkpoint replaces: ignored, they misled.
        fresh = [name for name in FRESH_ONLY if typed(name)]
        if fresh:
            flag = "--" + fresh[0].replace("_", "-")
            return fail(f"{flag} sets up a fresh cell: it does not apply with --checkpoint")
        if options["text"] and typed("seed"):
            # It draws random tokens for the checkpoint to read: beside a text, it changed nothing.
            return fail("--seed draws random tokens: it does not apply with --text")
    elif options["cell"] != "lstm" and options["cell"] != "gru" and typed("gate_bias"):
        return fail(f"--gate-bias is the LSTM's or GRU's: the {options['cell']} cell has no gate")
    try:
        # Its passes over T steps take half a minute at the largest sizes: a line says how far.
        with TerminalProgress() as line:
            report = gradient_report(options, progress=line.show if line.on else None)
    except ProbeError as exc:
        return fail(str(exc))
    for message in report.warnings:
        warn(message)
    if args.json:
        print_json(report.to_json())
        return 0
    print(_text(report))
    return 0


def _top_of(layers: int) -> str:
    """A stacked model's figures are its top layer's: said beside its size."""
    if layers == 1:
        return ""
    return f" in the top layer of {layers} (the figures below are that layer's)"


def _text(report) -> str:
    flow, T, w = report.flow, report.length, report.weight  # w: an LSTM's is W_hc
    lines = [
        f"{report.source}: hidden {report.hidden}{_top_of(report.layers)}, T = {T}, "
        f"ρ({w}) = {flow.spectral_radius:.4g}, loss at step T "
        + (f"{flow.loss:.4g}" if math.isfinite(flow.loss) else "not finite (the states overflow)"),
        "‖∂L_T/∂h_t‖ going back in time:",
    ]
    picks = sorted({T - 1 - round(i * (T - 1) / (ROWS - 1)) for i in range(ROWS)}, reverse=True)
    for i in picks:
        line = f"  t = {i + 1:>{len(str(T))}}  {flow.norms[i]:.4e}"
        if flow.predicted is not None:
            line += f"   closed form {flow.predicted[i]:.4e}"
        lines.append(line)
    if report.decay_per_step is not None:
        why = f"ρ({w}) = {flow.spectral_radius:.4g}: below 1 vanishes, above 1 explodes"
        if report.cell == "rnn":
            # Not the linear rule alone: a tanh RNN of ρ 1.2 vanishes (×0.98 per step back).
            why = (
                f"ρ({w}) = {flow.spectral_radius:.4g} and tanh′ ≤ 1: below 1 it vanishes, "
                "above 1 it may explode, or tanh may still make it vanish"
            )
        elif report.cell != "linear":
            why = f"the gates set the rate, not ρ({w}) alone"
        lines.append(f"×{report.decay_per_step:.4g} per step back on average ({why})")
    clip, cut = report.clip, report.truncation
    if not math.isfinite(clip.before):
        lines.append(
            "the gradient overflowed (inf or NaN): no clipping rescues it — the trainer stops "
            "on a non-finite loss; a smaller --init-scale or a shorter --length stays finite"
        )
        return "\n".join(lines)
    lines.append(
        f"clipping θ = {clip.theta:g}: ‖g‖ {clip.before:.4g} → {clip.after:.4g}, "
        f"cosine {clip.cosine:.6f} (the direction is kept)"
    )
    lines.append(
        f"truncated BPTT after τ = {cut.tau}: ‖∂L/∂{w}‖ {cut.full_norm:.4g} in full, "
        f"{cut.truncated_norm:.4g} truncated; the dropped terms are "
        f"{100 * cut.relative_difference:.3g} % of the full gradient"
    )
    return "\n".join(lines)
