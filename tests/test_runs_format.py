"""How run numbers and folders are written (rnn_tui/runs/format.py)."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.runs.format import fmt_bleu, fmt_count, fmt_duration, fmt_folder, fmt_number


def test_durations():
    assert [fmt_duration(s) for s in (None, -3, 0, 44.6, 200, 3599, 3600, 3725)] == [
        "—", "0s", "0s", "45s", "3m20s", "59m59s", "1h00m", "1h02m",
    ]  # fmt: skip


def test_counts_numbers_and_bleu():
    assert [fmt_count(v) for v in (None, 950, 12_345, 4_560_000, 7.2e9)] == [
        "—", "950", "12.3k", "4.56M", "7.2G",
    ]  # fmt: skip
    # At each unit's edge the rounding carried into "1e+03" (a header read "tok/s 1e+03").
    assert [fmt_count(v) for v in (999.6, 999_600, 999.6e6, 2.5e12, -999.7, 0.5)] == [
        "1k", "1M", "1G", "2,500G", "-1k", "0.5",
    ]  # fmt: skip
    assert [fmt_number(v) for v in (None, 11.9612, 2.4719, 999.94, 12_345.6)] == [
        "—", "11.96", "2.472", "999.9", "12,346",
    ]  # fmt: skip
    assert [fmt_bleu(v) for v in (None, 0.0, 34.567)] == ["—", "0.0", "34.6"]


def test_folders_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fmt_folder(tmp_path / "runs") == "runs"
    assert fmt_folder(Path("runs/lm")) == "runs/lm"
    assert fmt_folder(tmp_path) == "."
    outside = tmp_path.parent / "elsewhere"
    assert fmt_folder(outside) == str(outside)
