"""Issue 13's targets, in one place, and how a benchmark's row says whether it met them.

A row a target applies to carries `target` (its words) and `ok`; a script exits MISSED (3) when
any row has `ok` false, as bench_all.py reads it. A row no target applies to (the GPU with its
CUDA graph turned off, which shows what the graph adds; seq2seq on the CPU) carries neither.

    training, CPU      scratch RNN, GRU, LSTM ≥ 2× d2l's loop; nn.RNN, nn.GRU, nn.LSTM and the
                       2-layer LSTM ≥ 1.0×
    training, GPU      the concise models ≥ 4×, the scratch RNN ≥ 8×, and ≥ 0.8 of the bare
                       CUDA-graph step of the same model (_bare_graph.py)
    seq2seq, GPU       ≥ 4× d2l's train_seq2seq
    scale              `rnn-tui stats` on 100 MB in < 20 s and < 1.5 GB (a bigger file: in
                       proportion to its size); the Dataset screen's longest stall < 100 ms
"""

from __future__ import annotations

MISSED = 3  # a script's exit status: measured, but a target was missed

SCRATCH = ("rnn_scratch", "gru_scratch", "lstm_scratch")
CONCISE = ("rnn", "gru", "lstm", "deep_lstm")
OF_BARE = 0.8  # of the bare CUDA-graph step, on a GPU
SEQ2SEQ_GPU = 4.0
STATS_SECONDS = 20.0  # for 100 MB
STATS_BYTES = 1.5e9  # for 100 MB
STATS_MB = 100.0  # the size those two are for; a smaller file gets the same budget
STALL_MS = 100.0


def training_ratio(model: str, device: str, graph: str = "auto") -> float | None:
    """The least ratio ours/d2l issue 13 asks of `model` (bench_train.py's names) on `device`."""
    if device == "cpu":
        return 2.0 if model in SCRATCH else 1.0 if model in CONCISE else None
    if graph == "off":
        return None
    return 8.0 if model == "rnn_scratch" else 4.0 if model in CONCISE else None


def judge_training(row: dict, graph: str = "auto") -> dict:
    """`row` (a bench_train.py row: model, device, ratio, maybe of_bare) with its target and
    whether it met it."""
    least = training_ratio(row["model"], row["device"], graph)
    of_bare = row.get("of_bare") if row["device"] == "cuda" and graph != "off" else None
    if least is None and of_bare is None:
        return row
    words, ok = [], True
    if least is not None:
        words.append(f"≥ {least:g}× d2l")
        ok = row["ratio"] >= least
    if of_bare is not None:
        words.append(f"≥ {OF_BARE:g} of the bare graph")
        ok = ok and of_bare >= OF_BARE
    return {**row, "target": ", ".join(words), "ok": ok}


def judge_seq2seq(row: dict, device: str) -> dict:
    """bench_translate.py's training row with its target: ≥ 4× d2l on a GPU, none on the CPU."""
    if device != "cuda":
        return row
    return {**row, "target": f"≥ {SEQ2SEQ_GPU:g}× d2l", "ok": row["ratio"] >= SEQ2SEQ_GPU}


def judge_stats(row: dict) -> dict:
    """A `bench_scale.py cli` row (mb, rc, seconds, peak_rss_mb in MiB) with its budget: the
    100 MB one up to 100 MB, in proportion above; a failed command misses it."""
    scale = max(row["mb"], STATS_MB) / STATS_MB
    seconds, mib = STATS_SECONDS * scale, STATS_BYTES * scale / 2**20
    ok = row["rc"] == 0 and row["seconds"] < seconds and row["peak_rss_mb"] < mib
    return {**row, "target": f"< {seconds:g} s and < {mib:,.0f} MiB", "ok": ok}


def judge_stall(row: dict) -> dict:
    """A `bench_scale.py tui` row with its target: no event-loop stall of STALL_MS or more
    while the file loads, which it must have done (`loaded`)."""
    ok = row.get("loaded", True) and row["max_stall_ms"] < STALL_MS
    return {**row, "target": f"the file read, no stall ≥ {STALL_MS:g} ms", "ok": ok}


def exit_status(rows: list[dict]) -> int:
    """0 when every row that has a target met it, else MISSED."""
    return MISSED if any(row.get("ok") is False for row in rows) else 0
