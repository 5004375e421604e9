"""`rnn-tui runs` as a table: every line within the terminal's width, the short cells whole."""

from __future__ import annotations

import re
import time

import pytest
from cli_helpers import call

YEAR = time.localtime().tm_year
NOW = time.mktime((YEAR, 12, 2, 0, 33, 0, 0, 0, -1))
ENTRIES = [
    {"name": "lm-gru-20261202-003345", "task": "language_model", "model": "gru",
     "status": "finished", "epoch": 2, "epochs": 2, "best_val_ppl": 16.69, "updated": NOW},
    {"name": "mt-gru-20261202-003345", "task": "translation", "model": "gru",
     "status": "running", "epoch": 2, "epochs": 20, "best_bleu": 31.25, "updated": NOW},
    {"name": "fc-rnn-20261202-003345", "task": "forecast", "model": "rnn",
     "status": "died", "epoch": 2, "epochs": 20, "best_rmse": 0.0512, "updated": NOW},
    {"name": "cl-lstm-20261202-003345", "task": "classify", "model": "lstm",
     "status": "paused", "epoch": 2, "epochs": 20, "best_macro_f1": 0.812, "updated": NOW},
]  # fmt: skip


@pytest.fixture
def shown(tmp_path, monkeypatch, capsys):
    """`rnn-tui runs` over `entries` in a terminal `width` columns wide: its lines."""

    def show(entries: list[dict], width: int) -> list[str]:
        monkeypatch.setattr("rnn_tui.runs.listing.list_runs", lambda root: entries)
        monkeypatch.setenv("COLUMNS", str(width))
        code, out, err = call(["runs", "--dir", str(tmp_path)], capsys)
        assert code == 0 and not err
        return out.splitlines()

    return show


@pytest.mark.parametrize("count", [1, 2, 4])
@pytest.mark.parametrize("width", [80, 100, 160])
def test_rows_fit_the_width_and_keep_their_short_cells_whole(shown, count, width):
    entries = ENTRIES[:count]
    lines = shown(entries, width)
    assert all(len(line.rstrip()) <= width for line in lines)
    text = "\n".join(lines)
    for entry in entries:
        assert entry["status"] in text and f"{entry['epoch']}/{entry['epochs']}" in text
    assert "12-02 00:33" in text  # the time is never cut or wrapped
    assert "16.69" in text
    if count == 4:
        # One shared column names each run's measure.
        for cell in ("val ppl 16.69", "BLEU 31.2", "RMSE 0.0512", "macro-F1 0.812"):
            assert cell in text
        assert "language_model" in text


def test_a_wide_terminal_shows_whole_names_and_the_year(shown):
    text = "\n".join(shown(ENTRIES, 160))
    assert f"{YEAR}-12-02 00:33" in text
    assert all(entry["name"] in text for entry in ENTRIES)


def test_one_task_keeps_its_named_column_and_the_box_where_it_fits(shown):
    lines = shown(ENTRIES[:1], 90)
    head = next(i for i, line in enumerate(lines) if "best val ppl" in line)
    assert lines[head - 1].startswith("┏")
    row = next(line for line in lines if "gru" in line)
    assert ENTRIES[0]["name"] in row and "16.69" in row and "12-02 00:33" in row


def test_at_80_columns_the_rules_go_before_the_name_folds(shown):
    """A folded name cannot be copied into `train --resume`: without the box's rules the
    row of one language-model run fits whole in 80 columns."""
    lines = shown(ENTRIES[:1], 80)
    # (The title naming the runs folder may take two lines: a long temporary path.)
    assert any("best val ppl" in line for line in lines)
    assert not any(line.startswith(("┏", "│")) for line in lines)
    row = next(line for line in lines if "gru" in line)
    assert row.startswith(ENTRIES[0]["name"]) and "finished" in row and "12-02 00:33" in row


def test_names_too_long_to_fit_whole_fold_inside_the_box(shown):
    long = dict(ENTRIES[0], name="lm-gru-" + "x" * 60)
    lines = shown([long], 80)
    assert any(line.startswith("┏") for line in lines)
    assert all(len(line.rstrip()) <= 80 for line in lines)
    row = next(line for line in lines if "gru" in line)
    assert "finished" in row and "16.69" in row and "12-02 00:33" in row


def test_a_date_of_another_year_keeps_its_year_when_narrow(shown):
    old = dict(ENTRIES[0], name="lm-old", updated=time.mktime((2019, 5, 4, 12, 0, 0, 0, 0, -1)))
    text = "\n".join(shown([*ENTRIES, old], 80))
    assert "2019-05-04" in text and "12-02 00:33" in text


@pytest.mark.parametrize("width", [68, 74, 80])
def test_runs_of_several_tasks_with_a_long_model_are_cut_nowhere(shown, width):
    """Runs of every task the trainer writes, with an attention translator, a long status and
    a three-digit epoch count: at 80 columns every cell but the name on one line; narrower,
    the model, the best score and the date fold between words. Nothing is cut ("…")."""
    entries = [
        dict(ENTRIES[1], task="seq2seq", model="seq2seq+additive", status="finished", epoch=183,
             epochs=500),
        dict(ENTRIES[0], task="lm", model="rnn-scratch"),
        dict(ENTRIES[2], task="forecast"),
        dict(ENTRIES[3], task="classify"),
        dict(ENTRIES[3], task="tag", name="tag-gru-20261202-003345"),
    ]  # fmt: skip
    lines = shown(entries, width)
    text = "\n".join(lines)
    assert "…" not in text and all(len(line.rstrip()) <= width for line in lines)
    assert "183/500" in text and "finished" in text and "classify" in text
    if width == 80:
        row = next(line for line in lines if "183/500" in line)
        assert "seq2seq+additive" in row and "BLEU 31.2" in row and "12-02 00:33" in row


def test_a_translation_run_is_scored_by_its_best_bleu_not_its_perplexity(shown):
    # A seq2seq run records both; its best epoch is its best BLEU, and "val ppl 9.81" (another
    # epoch's) was shown.
    both = {
        "name": "s1",
        "task": "seq2seq",
        "model": "seq2seq",
        "status": "finished",
        "epoch": 3,
        "epochs": 3,
        "best_val_ppl": 9.81,
        "best_bleu": 12.5,
        "updated": NOW,
    }
    lm = {**ENTRIES[0], "name": "l1", "task": "lm"}  # fmt: skip
    (row,) = [line for line in shown([both], 100) if "s1" in line]
    assert "12.5" in row and "9.81" not in row
    lines = shown([both, lm], 100)
    assert "BLEU 12.5" in next(line for line in lines if "s1" in line)
    assert "val ppl 16.69" in next(line for line in lines if "l1" in line)


@pytest.mark.parametrize("width", [56, 60, 64])
def test_too_narrow_for_every_column_the_date_goes_and_the_rest_stay_whole(shown, width):
    # At 60 columns every cell was cut a little: "48/200" read "48/2…", "updated" "update d".
    entries = [{**ENTRIES[1], "epoch": 48, "epochs": 200, "status": "stopped"}, *ENTRIES[:1]]
    lines = shown(entries, width)
    assert all(len(line.rstrip()) <= width for line in lines)
    text = "\n".join(lines)
    assert "48/200" in text and "2/2" in text and "stopped" in text and "finished" in text
    assert "…" not in text


@pytest.mark.parametrize("force_color", [None, "1"])
def test_piped_without_a_width_every_row_is_one_line_with_its_whole_name(
    force_color, tmp_path, monkeypatch, capsys
):
    """`rnn-tui runs | grep …`: no terminal and no $COLUMNS, so no fold at Rich's assumed 80;
    $FORCE_COLOR (which makes Rich take the pipe for a terminal) colours it, folds nothing."""
    long = {**ENTRIES[0], "name": "lm-lstm-scratch-bidirectional-" + "x" * 60}
    monkeypatch.setattr("rnn_tui.runs.listing.list_runs", lambda root: [long, *ENTRIES])
    monkeypatch.delenv("COLUMNS", raising=False)
    if force_color:
        monkeypatch.setenv("FORCE_COLOR", force_color)
    code, out, _ = call(["runs", "--dir", str(tmp_path)], capsys)
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert code == 0
    rows = [line for line in out.splitlines() if "12-02 00:33" in line]
    assert len(rows) == 5
    assert long["name"] in rows[0] and all(e["name"] in r for e, r in zip(ENTRIES, rows[1:]))
    # No padding after a line's last character (the title was padded to the table's width).
    assert all(line == line.rstrip() for line in out.splitlines())
    assert out.splitlines()[0] == f"runs in {tmp_path}"
