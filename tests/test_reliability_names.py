"""Names as a user types them (issue 13, bad input of the kinds already tried).

`rnn-tui runs` lists runs by name, yet `--checkpoint NAME` and `--resume NAME` took only paths:
from another directory, a run the list had just shown was "checkpoint not found". And a path
or a variable holding `~someone` whose home cannot be found (a user that does not exist, no
$HOME) ended in pathlib's RuntimeError, a traceback, where the shell would leave it as typed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import call, one_line, tiny_args, tiny_corpus

from rnn_tui.data import token_cache
from rnn_tui.files import expanded, home
from rnn_tui.runs import discover
from rnn_tui.runs.rundir import RUNS_ENV, check_run_dir, default_runs_root, resolve_run

NO_USER = "~no-such-user-rnn-tui"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """A runs folder named by $RNN_TUI_RUNS, and a working directory that is not its parent."""
    root = tmp_path / "my-runs"
    root.mkdir()
    monkeypatch.setenv(RUNS_ENV, str(root))
    cwd = tmp_path / "work"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return root


# -- run names ---------------------------------------------------------------------------------


def test_a_run_name_resolves_to_the_runs_folder(elsewhere):
    (elsewhere / "lm-gru-1").mkdir()
    run = str(elsewhere / "lm-gru-1")
    assert resolve_run("lm-gru-1") == run
    assert discover.resolve_shipped("lm-gru-1") == run
    # A path, something of that name here, "." and "..", or an unknown name: left as given.
    assert resolve_run("runs/lm-gru-1") == "runs/lm-gru-1"
    assert resolve_run("..") == ".."
    assert resolve_run("other") == "other"
    # The app's "open run" takes the name too (a run folder needs its config.json).
    (elsewhere / "lm-gru-1" / "config.json").write_text("{}")
    assert check_run_dir("lm-gru-1") == elsewhere / "lm-gru-1"
    Path("lm-gru-1").mkdir()
    assert resolve_run("lm-gru-1") == "lm-gru-1"


def test_generate_and_resume_take_the_name_runs_lists(corpus, elsewhere, capsys):
    code, _, err = call(tiny_args(corpus, "--run-dir", str(elsewhere / "mine")), capsys)
    assert code == 0, err
    code, out, _ = call(["runs"], capsys)
    assert code == 0 and "mine" in out
    code, out, err = call(
        ["generate", "--checkpoint", "mine", "--prefix", "the ", "--length", "5"], capsys
    )
    assert code == 0, err
    assert out.startswith("the ")
    code, _, err = call(["train", "--resume", "mine", "--epochs", "3"], capsys)
    assert code == 0, err
    assert "epoch 3/3" in err


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["generate", "--checkpoint", "nope", "--prefix", "a"], "checkpoint not found: 'nope'"),
        (["translate", "--checkpoint", "nope", "go ."], "checkpoint not found: 'nope'"),
        (["train", "--resume", "nope"], "run not found: 'nope'"),
    ],
)
def test_an_unknown_name_says_where_it_was_looked_for(elsewhere, capsys, argv, start):
    code, line = one_line(capsys, argv)
    assert code == 2
    assert line.startswith(f"rnn-tui: error: {start}")
    assert str(elsewhere) in line and "rnn-tui runs" in line


# -- ~user that cannot be expanded ------------------------------------------------------------


def test_an_unknown_user_is_left_as_typed():
    with pytest.raises(RuntimeError):
        Path(f"{NO_USER}/x").expanduser()  # what the code used to call
    assert expanded(f"{NO_USER}/x") == Path(f"{NO_USER}/x")
    assert expanded("~/x") == Path(os.path.expanduser("~/x"))


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (["stats", "--corpus", f"{NO_USER}/x.txt"], "corpus file not found"),
        (["train", "--corpus", f"{NO_USER}/x.txt", "--epochs", "1"], "corpus file not found"),
        (["runs", "--dir", f"{NO_USER}/runs"], "no folder"),
    ],
)
def test_a_path_with_an_unknown_user_is_one_line(tmp_path, monkeypatch, capsys, argv, start):
    monkeypatch.chdir(tmp_path)
    code, line = one_line(capsys, argv)
    assert code == 2
    assert line.startswith(f"rnn-tui: error: {start}") and NO_USER in line


def test_variables_with_an_unknown_user_do_not_raise(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(RUNS_ENV, f"{NO_USER}/runs")
    monkeypatch.setenv(discover.CHECKPOINTS_ENV, f"{NO_USER}/checkpoints")
    assert default_runs_root() == Path(f"{NO_USER}/runs")
    code, out, err = call(["runs"], capsys)
    assert code == 0 and "Traceback" not in err
    assert "no runs" in out + err
    assert discover.resolve_shipped("timemachine-char-lstm").endswith(".safetensors")


def test_no_home_folder_keeps_the_cache_per_user(monkeypatch):
    monkeypatch.delenv(token_cache.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no $HOME, no passwd entry
    assert home() is None
    cache = token_cache.cache_dir()
    assert cache.is_absolute() and str(os.getuid()) in cache.name
    assert discover.short_path("/somewhere/else") == "/somewhere/else"


# -- someone else's run ----------------------------------------------------------------------


def _owned_by_someone_else(monkeypatch, uid: int = 4242) -> None:
    """os.stat reports another user as the owner; root may write anywhere, so the permission
    error itself is raised by the test."""
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, uid, *st[5:10]))

    monkeypatch.setattr(os, "stat", stat)


def test_permission_denied_on_another_users_run_names_the_owner(tmp_path, monkeypatch):
    import errno
    import tempfile

    from rnn_tui.files import owner_note
    from rnn_tui.runs import lock
    from rnn_tui.runs.manage import rename_run
    from rnn_tui.runs.rundir import RunDir, RunError

    run = tmp_path / "theirs"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    denied = PermissionError(errno.EACCES, "Permission denied")
    assert owner_note(run, denied) == ""  # our own
    _owned_by_someone_else(monkeypatch)
    assert owner_note(run, denied).startswith(" (owned by ")  # a name, or "user id 4242"
    assert owner_note(run, FileNotFoundError(errno.ENOENT, "x")) == ""

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(RunError, match=r"^cannot write to .*theirs: Permission denied \(owned by"):
        RunDir(run).claim()
    monkeypatch.setattr(lock, "acquire", refuse)
    with pytest.raises(RunError, match=r"^cannot lock .*theirs: Permission denied \(owned by"):
        rename_run(run, "mine")


def test_a_checkpoint_path_typed_with_a_tilde_loads(tmp_path, monkeypatch):
    """The app's checkpoint picker takes a typed path, which no shell expanded."""
    import shutil

    from rnn_tui.checkpoints.checkpoint import load_checkpoint

    shipped = Path(discover.resolve_shipped("timemachine-char-lstm")).with_suffix(".json")
    meta = shipped.read_text(encoding="utf-8")
    (tmp_path / "models").mkdir()
    shutil.copy(shipped, tmp_path / "models" / shipped.name)
    for tensor in shipped.parent.glob(f"{shipped.stem}*.safetensors"):
        shutil.copy(tensor, tmp_path / "models" / tensor.name)
    monkeypatch.setenv("HOME", str(tmp_path))
    checkpoint = load_checkpoint(f"~/models/{shipped.name}")
    assert checkpoint.meta["config"] == json.loads(meta)["config"]


def test_a_trainer_that_cannot_start_in_another_users_run_says_whose_it_is(tmp_path, monkeypatch):
    """Continue, in the app, on a run someone else owns: its log cannot be created there."""
    import builtins
    import errno

    from rnn_tui.runs.process import TrainProcess
    from rnn_tui.runs.rundir import RunError

    run = tmp_path / "theirs"
    run.mkdir()
    real_open = builtins.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("train.log"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse)
    _owned_by_someone_else(monkeypatch)
    with pytest.raises(RunError, match=r"Permission denied \(.*train.log\) \(owned by "):
        TrainProcess(["true"], run).start()
