"""The benchmarks refuse a bad option as rnn-tui's commands do: one line on stderr naming the
option, exit status 2, before any measurement starts (no traceback from the middle of a run, no
app waiting forever for a Train form that refused the value)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name: str, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # their helpers beside them, as when run as scripts
    spec = importlib.util.spec_from_file_location(f"{name}_args_under_test", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refused(name: str, argv: list[str], monkeypatch, capsys) -> str:
    module = load(name, monkeypatch)
    started = []
    # Anything past the command line would be a measurement: none may start.
    for attr in ("run_paired", "run_once", "scenarios", "measure", "make", "cli", "tui",
                 "measure_ratio", "measure_idle", "train_speed", "load_translator"):  # fmt: skip
        if hasattr(module, attr):
            monkeypatch.setattr(module, attr, lambda *a, **k: started.append(a))
    with pytest.raises(SystemExit) as exit_:
        module.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert not started
    assert err.endswith("\n") and err.count("\n") == 1, err  # one line
    assert "Traceback" not in err
    return err


CASES = [
    ("bench_train", ["--models", "bogus"], "argument --models: unknown name 'bogus'"),
    ("bench_train", ["--models", ","], "argument --models: name at least one of rnn_scratch"),
    ("bench_train", ["--epochs", "0"], "argument --epochs: must be an integer in [1, 1,000,000]"),
    ("bench_train", ["--repeat", "-1"], "argument --repeat: must be an integer in [1, 1,000]"),
    ("bench_paths", ["--models", "lstm,gpt"], "argument --models: unknown name 'gpt'"),
    ("bench_paths", ["--rounds", "0"], "argument --rounds: must be an integer in [1, 1,000]"),
    ("bench_stalls", ["--only", "tabs,bogus"], "argument --only: unknown name 'bogus'"),
    ("bench_stalls", ["--moves", "0"], "argument --moves: must be an integer in [1, 10,000]"),
    ("bench_ui", ["--only", "speed"], "argument --only: unknown name 'speed'"),
    ("bench_ui", ["--screen-env", "FOO"], "argument --screen-env: 'FOO' is not NAME=VALUE"),
    ("bench_ui", ["--child-nice", "40"], "argument --child-nice: must be an integer in [-20, 19]"),
    ("bench_ui", ["--model", "gpt"], "argument --model: unknown model 'gpt'"),
    ("bench_ui", ["--key-every", "0"], "argument --key-every: must be a number in (0, 60]"),
    ("bench_live_cost", ["--task", "bogus"], "argument --task: invalid choice: 'bogus'"),
    ("bench_live_cost", ["--epochs", "0"], "argument --epochs: must be an integer in [1,"),
    ("bench_live_cost", ["--period", "nan"], "argument --period: must be a number in [0.5, 3600]"),
    ("bench_live_cost", ["--hidden", "1e9"], "--hidden: must be an integer in [1, 16,384]"),
    ("bench_live_cost", ["--size", "120"], "argument --size: '120' is not COLUMNSxROWS"),
    ("bench_live_cost", ["--size", "79x40"], "--size: columns must be an integer in [80, 500]"),
    ("bench_live_cost", ["--compare", "21"], "argument --compare: must be an integer in [0, 20]"),
    (
        "bench_live_cost",
        ["--compare", "2", "--task", "tag"],
        "--compare: the Train screen's language model only (--task lm)",
    ),
    ("bench_ui", ["--size", "120x10"], "--size: rows must be an integer in [24, 200]"),
    ("bench_scale", ["make", "--mb", "0"], "argument --mb: must be an integer in [1, 10,000]"),
    ("bench_scale", ["cli", "/nonexistent/x.txt"], "cannot read /nonexistent/x.txt: No such file"),
    ("bench_data", ["--repeat", "0"], "argument --repeat: must be an integer in [1, 1,000]"),
    ("bench_forecast", ["--repeat", "x"], "argument --repeat: must be an integer in [1, 1,000]"),
    (
        "bench_forecast_view",
        ["--lengths", "50000,5"],
        "argument --lengths: must be an integer in [10, 1,000,000] (got '5')",
    ),
    ("bench_forecast_view", ["--models", "mlp,tcn"], "argument --models:"),
    ("bench_core_share", ["--seconds", "1"], "argument --seconds: must be an integer in [2, 600]"),
    ("bench_core_share", ["--model", "gpt"], "argument --model: unknown model 'gpt'"),
    ("bench_clip", ["--theta", "inf"], "argument --theta: must be a number in (0, 1e+06]"),
    ("bench_translate", ["--threads", "0,x"], "argument --threads: expected whole numbers"),
    ("bench_translate", ["--epochs", "0"], "argument --epochs: must be an integer in [1,"),
    ("heldout_bleu", ["fra-eng-gru", "--beam", "0"], "argument --beam: must be an integer in [1,"),
    ("bench_all", ["--skip", "train,bogus"], "argument --skip: unknown name 'bogus'"),
]


@pytest.mark.parametrize("name, argv, says", CASES, ids=lambda c: str(c)[:40])
def test_a_bad_option_is_one_line(name, argv, says, monkeypatch, capsys):
    err = refused(name, argv, monkeypatch, capsys)
    assert says in err
    assert err.startswith(f"{name}.py")  # the script, then the option's problem


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_paths_are_checked_before_use(kind, tmp_path, monkeypatch, capsys):
    afile = tmp_path / "a.txt"
    afile.write_text("x", encoding="utf-8")
    if kind == "folder":  # a file where a folder is written
        err = refused("bench_all", ["--scale-dir", str(afile)], monkeypatch, capsys)
        assert f"{afile} is not a folder" in err
    else:  # a folder where a file is read
        err = refused("bench_translate", ["--checkpoint", str(tmp_path)], monkeypatch, capsys)
        assert f"{tmp_path} is not a regular file" in err


@pytest.mark.parametrize("name", ["bench_train", "bench_translate", "bench_clip", "bench_all"])
def test_cuda_without_a_gpu_is_refused_first(name, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    err = refused(name, ["--device", "cuda"], monkeypatch, capsys)
    assert "--device cuda: no" in err and "GPU here" in err


def test_good_values_are_parsed_to_their_types(monkeypatch):
    bench_ui = load("bench_ui", monkeypatch)
    assert bench_ui.env_pair("A=b=c") == ("A", "b=c")
    args_ = load("_args", monkeypatch)
    assert args_.names(["a", "b"])("b, a,b") == ["b", "a"]
    assert args_.int_in("n", 1, 3)("3") == 3
    assert args_.terminal_size("400×110") == (400, 110)
    assert args_.terminal_size(" 80 X 24 ") == (80, 24)


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "a.txt"
    afile.write_text("x", encoding="utf-8")
    bench_scale = load("bench_scale", monkeypatch)
    assert bench_scale.main(["make", "--mb", "1", "--dir", str(afile / "scale")]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"bench_scale.py make: error: cannot write into {afile / 'scale'}: Not a directory\n"
    )


def test_a_checkpoint_of_another_task_is_refused(monkeypatch, capsys):
    bench_translate = load("bench_translate", monkeypatch)
    lm = BENCH.parent / "checkpoints" / "timemachine-char-lstm.json"
    with pytest.raises(SystemExit) as exit_:
        bench_translate._latency(lm, "shipped", 1, [0], print)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a language-model checkpoint" in err


def test_start_up_is_timed_with_the_bytecode_cache(monkeypatch):
    """bench_data times commands as a user runs them: Python's bytecode cache written (not
    PYTHONDONTWRITEBYTECODE, which CI sets), after one unmeasured run."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    bench_data = load("bench_data", monkeypatch)
    runs = []
    monkeypatch.setattr(bench_data.subprocess, "run", lambda cmd, **kw: runs.append(kw["env"]))
    bench_data.wall(["true"], 3)
    assert len(runs) == 4  # one unmeasured, then three timed
    assert all("PYTHONDONTWRITEBYTECODE" not in env and "PATH" in env for env in runs)


def test_a_folder_it_may_not_look_into_is_one_line(monkeypatch, capsys):
    def closed(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "exists", closed)
    err = refused("bench_all", ["--scale-dir", "/locked/scale"], monkeypatch, capsys)
    assert "argument --scale-dir: cannot use /locked/scale: Permission denied" in err
