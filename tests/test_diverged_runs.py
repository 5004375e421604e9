"""A run that diverges, as a learner's first lr of 1000 makes one: it is told in figures a person
can read, the app and `rnn-tui runs` keep their layout, and a loss that is not a cross-entropy
(a forecast's squared error) is not judged as one."""

from __future__ import annotations

import json
import math
import re

import pytest
from cli_helpers import call

from rnn_tui.cli.runs import _best
from rnn_tui.cli.train_report import _score_text
from rnn_tui.metrics.perplexity import fmt_overflowed, fmt_perplexity
from rnn_tui.runs.discover import fact_parts
from rnn_tui.runs.format import fmt_number
from rnn_tui.train.progress import NonFiniteLoss, check_loss

HUGE = 3.802564197501917e295  # a held-out perplexity after one epoch at lr 1000


def test_huge_perplexities_are_written_with_an_exponent():
    assert fmt_perplexity(17.8234) == "17.82" and fmt_perplexity(999_999.0) == "999999.00"
    assert fmt_perplexity(HUGE) == "3.803e+295" and fmt_perplexity(1e6, 3) == "1.000e+06"
    assert fmt_number(HUGE) == "3.803e+295" and fmt_number(123_456.7) == "123,457"
    assert fmt_number(11.957) == "11.96"
    assert _best({"task": "lm", "best_val_ppl": HUGE}, shared=False) == "3.803e+295"
    assert _best({"task": "lm", "best_val_ppl": 4.5678}, shared=True) == "val ppl 4.57"
    assert "val ppl 3.803e+295" in fact_parts({"model": "lstm", "val_ppl": HUGE})


def test_a_perplexity_too_large_for_a_float_is_written_as_a_power_of_e():
    # The epoch line fell back on the loss and printed "val ppl 807.85".
    event = {"train_ppl": 5.589e24, "train_loss": 56.98, "val_ppl": None, "val_loss": 807.85}
    assert _score_text(event, "val", "ppl", ".2f") == "e^807.9" == fmt_overflowed(807.85)
    assert _score_text(event, "train", "ppl", ".2f") == "5.589e+24"
    loss = {"train_ppl": None, "train_loss": 3.34e4}
    assert _score_text(loss, "train", "loss", ".4g") == "3.34e+04"


class _Forecast:
    perplexity = False
    cross_entropy = False


class _Classify:  # a cross-entropy without a perplexity to report: judged as one
    perplexity = False


@pytest.mark.parametrize("task", [None, _Forecast()])
def test_a_nan_or_inf_loss_stops_every_task(task):
    for bad in (math.nan, math.inf):
        with pytest.raises(NonFiniteLoss):
            check_loss(bad, 1, task)


def test_only_a_cross_entropy_is_judged_by_its_perplexity():
    with pytest.raises(NonFiniteLoss, match="perplexity overflows"):
        check_loss(710.0, 1)
    with pytest.raises(NonFiniteLoss, match="diverged"):  # classify and tag: it went on
        check_loss(2.53e4, 1, _Classify())
    check_loss(3.34e4, 1, _Forecast())  # an untrained model's MSE on values near 100


def test_a_task_without_a_perplexity_is_not_told_of_one():
    # A classifier at lr 1e6 was told its "perplexity overflows": it reports none.
    with pytest.raises(NonFiniteLoss) as told:
        check_loss(5.39e7, 1, _Classify())
    assert str(told.value) == (
        "loss diverged to 5.39e+07 in epoch 1 (cross-entropy over 709 nats): "
        "try a smaller --lr or --clip"
    )


def test_an_unscaled_series_trains(tmp_path, capsys):
    # Its first minibatches' MSE (about 3e4 on airline's passengers) was taken for a perplexity
    # that overflows, and the run was stopped as "diverged" before its first epoch.
    args = ["train", "--task", "forecast", "--series", "airline", "--scale", "off"]
    args += ["--epochs", "2", "--horizons", "1", "--run-dir", str(tmp_path / "r"), "--json"]
    code, out, err = call(args, capsys)
    assert code == 0, err
    assert json.loads(out)["status"] == "finished" and "diverged" not in err


def test_a_language_model_whose_perplexity_overflows_says_it_diverged(tmp_path, capsys):
    args = ["train", "--model", "rnn", "--hidden", "16", "--max-tokens", "3000", "--lr", "1000"]
    args += ["--epochs", "1", "--run-dir", str(tmp_path / "r")]
    code, _, err = call(args, capsys)
    last = err.strip().splitlines()[-1]
    # "finished: 1 epoch", the held-out perplexity having overflowed, said nothing of it.
    assert code == 0 and "no epoch's perplexity was finite: the run diverged" in last, err
    assert "val ppl e^" in err and not re.search(r"\d{20}", err), err  # no 300-digit figures


def test_a_run_worse_than_guessing_says_so(tmp_path, capsys):
    args = ["train", "--model", "rnn", "--hidden", "16", "--max-tokens", "3000", "--lr", "30"]
    args += ["--epochs", "1", "--run-dir", str(tmp_path / "r")]
    code, _, err = call(args, capsys)
    last = err.strip().splitlines()[-1]
    assert code == 0 and "worse than a uniform guess over its 28 tokens" in last, err


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_never_holds_nan_or_infinity():
    from rnn_tui.atomic import dumps_json, finite, json_text

    record = {"a": math.nan, "b": [1.0, -math.inf, (math.inf, 2)], "c": {"d": 3.5}, "e": "NaN"}
    assert finite(record) == {"a": None, "b": [1.0, None, [None, 2]], "c": {"d": 3.5}, "e": "NaN"}
    assert _strict(json_text(record)) == finite(record) and _strict(dumps_json(record))
    assert json_text({"x": 1.5}) == '{"x": 1.5}'


def test_a_diverged_forecast_writes_valid_json(tmp_path, capsys):
    # Its held-out errors were NaN, written as `NaN` on stdout and in its files: strict
    # parsers (and jq's --seq users) refused the output of a run that said "finished".
    run = tmp_path / "r"
    args = ["train", "--task", "forecast", "--model", "mlp", "--lr", "1e6", "--clip", "1e6"]
    args += ["--epochs", "2", "--run-dir", str(run), "--json"]
    code, out, err = call(args, capsys)
    # It now stops where its gradient norm is no longer finite; whatever it wrote is JSON.
    assert code in (0, 1), err
    summary = _strict(out)
    row = (summary.get("forecast") or {}).get("4") or {}
    assert ((row.get("errors") or {}).get("mlp") or {}).get("mse") is None
    for line in (run / "metrics.jsonl").read_text().splitlines():
        _strict(line)
    for saved in (run / "checkpoints").glob("*.json"):
        _strict(saved.read_text())


def test_a_diverged_forecasts_errors_are_written_with_an_exponent():
    from rnn_tui.tui.widgets.forecast_table import _fmt

    assert _fmt("mse", 3.3559186973619692e28) == "3.36e+28"  # the table's 4 digits
    assert _fmt("mse", 3.3559186973619692e28, 2) == "3e+28"  # its narrowest form
    assert _fmt("mse", 14310.4) == "14310" and _fmt("rmse", 0.06773) == "0.06773"
    assert _fmt("mape", 659.8) == "659.8" and _fmt("mse", math.nan) == "–"


def test_a_diverged_classifier_still_stops(tmp_path, capsys):
    # The forecast's exemption from the overflow check covered classify and tag too (they
    # report no perplexity): a classifier at lr 1e5 ran on and "finished".
    args = ["train", "--task", "classify", "--max-names", "100", "--epochs", "2", "--lr", "1e5"]
    args += ["--clip", "1e6", "--optimizer", "sgd", "--run-dir", str(tmp_path / "r")]
    code, _, err = call(args, capsys)
    assert code == 1 and "diverged" in err.strip().splitlines()[-1], err


def test_mape_keeps_its_digits_when_tiny_and_an_exponent_when_huge():
    # A near-perfect forecast's 7e-05 % read "0.0" beside the naive's 0.0, and the verdict
    # declared a winner between two zeros; a diverged one's took 18 digits in the header.
    from rnn_tui.runs.format import fmt_mape
    from rnn_tui.train.tasks.forecast import _rmse_text
    from rnn_tui.tui.widgets.forecast_table import _fmt

    assert fmt_mape(6.97e-05) == "7e-05" and fmt_mape(0.0) == "0.0" and fmt_mape(12.34) == "12.3"
    assert fmt_mape(2.089e14) == "2.089e+14" and fmt_mape(None) == fmt_mape(math.nan) == "—"
    assert _fmt("mape", 6.97e-05) == "7e-05" and _fmt("mape", 659.8) == "659.8"
    assert _fmt("mape", 2.089e14, 3) == "2.1e+14"
    assert _rmse_text(math.inf) == _rmse_text(math.nan) == "not finite"
    assert _rmse_text(0.2692) == "0.2692"


def test_a_gradient_norm_that_is_not_finite_stops_the_run(tmp_path, capsys):
    # Clipping scales an infinite gradient to zeros: a forecaster at lr 1e6 sat at a loss of
    # 2e32 for five epochs and "finished".
    with pytest.raises(NonFiniteLoss, match="gradient norm became inf in epoch 2"):
        check_loss(3.0, 2, _Forecast(), math.inf)
    series = tmp_path / "level.csv"
    series.write_text("v\n" + "".join(f"{100 + 10 * math.sin(i / 5)}\n" for i in range(300)))
    args = ["train", "--task", "forecast", "--series", str(series), "--scale", "off"]
    args += ["--lr", "1e6", "--epochs", "3", "--run-dir", str(tmp_path / "r")]
    code, _, err = call(args, capsys)
    assert code == 1 and "the gradient norm became" in err.strip().splitlines()[-1], err
