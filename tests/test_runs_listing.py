"""Listing runs whose files were edited by hand or written to break the listing: what list_runs
returns is plain data of the promised types, and `rnn-tui runs` shows it as plain text."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from epoch_events import IMPLAUSIBLE_EPOCHS

from rnn_tui.cli import main
from rnn_tui.quoting import plain
from rnn_tui.runs.format import fmt_time
from rnn_tui.runs.listing import list_runs


def _folder(root: Path, name: str, config: object, status: object = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if status is not None:
        (folder / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return folder


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Run folders whose values are markup, escape sequences or of the wrong type."""
    root = tmp_path / "runs"
    _folder(root, "closing-tag", {"model": "gru"}, {"status": "[/]", "message": "[/]"})
    _folder(root, "number-model", {"model": 5, "task": ["lm"], "epochs": "3"}, {"status": 7})
    _folder(root, "link", {"model": "[link=x]", "epochs": 2.5}, {"status": "[link=y]"})
    # A 309-digit count: shown whole, it squeezed the runs table's other columns out.
    _folder(root, "huge", {"model": "gru", "epochs": 1e308}, {"status": "finished"})
    _folder(
        root,
        "escape\x1b[2J",
        {"model": "gru\x1b[31m", "epochs": float("inf")},
        {"status": {"nested": 1}, "message": "line one\nline two"},
    )
    metrics = _folder(root, "bad-epoch", {"model": "lstm", "epochs": -1}) / "metrics.jsonl"
    metrics.write_text(
        json.dumps({"event": "epoch", "epoch": "two", "epochs": True, "val_ppl": 9.0}) + "\n",
        encoding="utf-8",
    )
    return root


def test_entries_hold_plain_values_of_the_promised_types(hostile):
    by_name = {entry["name"]: entry for entry in list_runs(hostile)}
    assert set(by_name) == {
        "closing-tag",
        "number-model",
        "link",
        "escape?[2J",
        "bad-epoch",
        "huge",
    }
    assert by_name["huge"]["epochs"] is None
    for entry in by_name.values():
        assert isinstance(entry["path"], str)
        for key in ("name", "status", "message"):
            assert isinstance(entry[key], str) and entry[key].isprintable(), (key, entry)
        for key in ("model", "task"):
            assert entry[key] is None or isinstance(entry[key], str) and entry[key].isprintable()
        for key in ("epoch", "epochs"):
            assert entry[key] is None or type(entry[key]) is int and entry[key] >= 0
        assert all(isinstance(note, str) and note.isprintable() for note in entry["notes"])
    # No status a trainer writes: unknown, and a note quotes it, as text.
    closing = by_name["closing-tag"]
    assert closing["status"] == "unknown" and closing["message"] == "[/]"
    assert closing["notes"] == [
        "status.json: \"status\" is '[/]', not one of running|paused|stopped|finished|failed"
    ]
    number = by_name["number-model"]
    assert (number["model"], number["task"], number["epochs"], number["status"]) == (
        None,
        None,
        None,
        "unknown",
    )
    assert (by_name["link"]["model"], by_name["link"]["epochs"]) == ("[link=x]", None)
    escape = by_name["escape?[2J"]
    assert (escape["model"], escape["epochs"], escape["status"]) == ("gru?[31m", None, "unknown")
    assert escape["message"] == "line one line two"
    assert escape["path"].endswith("escape\x1b[2J")  # the real folder, to open it
    bad = by_name["bad-epoch"]
    # An epoch event whose epoch is no count is ignored whole: its val_ppl is no run's best.
    assert (bad["epoch"], bad["epochs"], bad["best_val_ppl"]) == (0, None, None)
    json.dumps(list_runs(hostile), allow_nan=False)


def test_runs_shows_values_from_disk_as_plain_text(hostile, capsys):
    assert main(["runs", "--dir", str(hostile)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    for text in ("[/]", "[link=x]", "[link=y]", "escape?[2J", "gru?[31m"):
        assert text in out, text
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert lines["number-model"].split("│")[2].strip() == "?"  # a number is no model name
    assert lines["bad-epoch"].split("│")[4].strip() == "0/?"


def test_a_time_that_cannot_be_written_shows_a_dash(tmp_path, monkeypatch, capsys):
    import rnn_tui.runs.listing as listing

    entry = {"name": "far", "path": "/x/far", "status": "finished", "updated": 1e18}
    nan = {**entry, "name": "nan", "updated": float("nan")}
    monkeypatch.setattr(listing, "list_runs", lambda root: [entry, nan])
    assert main(["runs", "--dir", str(tmp_path)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "far" in line or "nan" in line]
    assert len(rows) == 2 and all(row.split("│")[-2].strip() == "—" for row in rows)


def test_the_apps_run_list_shows_them_as_text(hostile):
    from rnn_tui.tui.widgets.train_runs import run_details, run_prompt

    for entry in list_runs(hostile):
        assert run_prompt(entry, None).plain.endswith(entry["name"])
        assert f" · {entry['status']} · " in run_details(entry)
    entry = {"name": "[/]x", "status": "[/]", "model": "[link=x]", "epoch": 1, "epochs": 2}
    assert run_prompt(entry, "red").plain.endswith("[/]x")
    assert run_details(entry).startswith("[link=x] · [/] · epoch 1/2")
    raw = {"name": "a\x1b[2J", "status": "x\x07", "message": "m\x1b[0m\nn"}
    assert run_prompt(raw, None).plain.endswith("a?[2J")
    assert run_details(raw) == "? · x? · epoch 0/?\nm?[0m\nn"
    # A two-way run says so, as the header and `rnn-tui runs` do.
    two_way = {"name": "r", "status": "finished", "model": "lstm", "bidirectional": True}
    assert run_details(two_way).startswith("lstm bidir · finished · ")


def test_a_live_runs_details_are_its_current_figures():
    """status.json says where a run was when it started ("epoch 31/3500"); at epoch 248 the
    details show epoch 248 only, while a paused or stopped run's message still shows."""
    from rnn_tui.tui.widgets.train_runs import run_details

    live = {"name": "r", "status": "running", "model": "gru", "epoch": 248, "epochs": 3500,
            "message": "epoch 31/3500"}  # fmt: skip
    assert run_details(live) == "gru · running · epoch 248/3500"
    paused = {**live, "status": "paused", "message": "paused in epoch 249/3500"}
    assert run_details(paused).endswith("\npaused in epoch 249/3500")


def test_the_trainers_last_log_line_is_plain_text(tmp_path):
    from rnn_tui.runs.process import TrainProcess

    (tmp_path / "train.log").write_text("progress\nrnn-tui: error: \x1b[31mboom\x1b[0m\n")
    assert TrainProcess([], tmp_path).log_message() == "rnn-tui: error: ?[31mboom?[0m"


def test_format_helpers():
    assert [fmt_time(v) for v in (None, 0, "1", True, 1e18, float("inf"), float("nan"))] == [
        "—"
    ] * 7
    assert fmt_time(86400 * 365).startswith("1971-01-0")
    assert plain("gru") == "gru" and plain("a\tb\x1b[0m\x00") == "a b?[0m?"


def test_the_train_screen_shows_a_hostile_run_as_plain_text(tmp_path):
    from rnn_tui.runs.follow import RunFollower
    from rnn_tui.runs.followed import FollowedRuns
    from rnn_tui.tui.widgets.train_header import title_text

    folder = tmp_path / "run\x1b[2J"
    folder.mkdir()
    config = {"task": 7, "model": "gru\x1b]0;owned\x07", "hidden": "[/]", "corpus": "\x1b[31m"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    events = [
        {"event": "sample", "epoch": 1, "prefix": "time\x1b[1m", "text": "a\x1b[5mb\nc"},
        {"event": "status", "status": "failed", "message": "[/]boom\x1b[0m\nline two"},
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    follower = RunFollower(folder)
    follower.poll()
    snap = follower.snapshot()
    assert (snap.name, snap.model, snap.task, snap.status) == (
        "run?[2J",
        "gru?]0;owned?",
        "lm",
        "failed",
    )
    assert snap.message == "[/]boom?[0m line two"
    assert (snap.samples[0].prefix, snap.samples[0].text) == ("time?[1m", "a?[5mb\nc")
    title = title_text(snap).plain
    assert title.isprintable() and "[/]" in title and "gru?]0;owned?" in title
    followed = FollowedRuns(("red",))
    key, _ = followed.open(folder)
    followed.followers[key].poll()
    notice = followed.read_done(key)
    assert notice.text == "run?[2J failed: [/]boom?[0m line two"
    assert followed.entries()[0]["name"] == "run?[2J"


def test_runs_tells_the_tasks_apart_and_shows_the_best_macro_f1(tmp_path, capsys, monkeypatch):
    import shutil

    monkeypatch.setenv("COLUMNS", "80")

    recorded = Path(__file__).parent / "fixtures" / "recorded-classify"
    shutil.copytree(recorded, tmp_path / "runs")
    entries = {e["name"]: e for e in list_runs(tmp_path / "runs")}
    assert entries["classify-gru-recorded"]["best_macro_f1"] == pytest.approx(0.380, abs=5e-4)
    assert entries["lm-bi-recorded"]["best_macro_f1"] is None
    assert main(["runs", "--dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "name" in line)
    assert "task" in header and "best macro-F1" in header
    # A row's first line holds every cell but the rest of a long name.
    classify = next(line.split() for line in out.splitlines() if " classify " in line)
    assert classify[-4:-2] == ["3/3", "0.380"]


def test_the_apps_run_list_converts_each_status_mark_once(monkeypatch):
    """The list is rebuilt whole: converting rich text for each of 2,000 runs took ~50 of the
    ~90 ms a rebuild held the event loop, where a handful of marks differ."""
    from textual.content import Content

    from rnn_tui.tui.widgets.train_runs import run_mark, run_prompt

    converted = []
    real = Content.from_rich_text.__func__

    def counting(cls, text, console=None):
        converted.append(text.plain)
        return real(cls, text, console)

    monkeypatch.setattr(Content, "from_rich_text", classmethod(counting))
    marks: dict = {}
    statuses = ["finished", "running", "failed", "finished"] * 50
    prompts = [
        run_prompt({"name": f"run-{i}", "status": s}, "red" if i == 3 else None, marks)
        for i, s in enumerate(statuses)
    ]
    assert len(converted) == 4  # three statuses unticked, one ticked run
    assert prompts[3].plain == run_mark("finished", "red").plain + "run-3" == "█ ✓ run-3"
    assert prompts[7].plain == "  ✓ run-7"


RECORDED = Path(__file__).parent / "fixtures" / "recorded" / "lm-gru-recorded"


def _recorded_copy(tmp_path: Path) -> tuple[Path, Path]:
    """(runs folder, the recorded LM run copied into it)."""
    root = tmp_path / "runs"
    run = root / "lm-gru-recorded"
    shutil.copytree(RECORDED, run)
    return root, run


def test_a_run_folder_without_its_config_is_listed_as_unreadable(tmp_path, capsys):
    root, run = _recorded_copy(tmp_path)
    (run / "config.json").unlink()
    (entry,) = list_runs(root)
    assert entry["status"] == "unreadable" and "config.json" in entry["message"]
    assert main(["runs", "--dir", str(root), "--json"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)["runs"]
    assert shown["name"] == "lm-gru-recorded" and shown["status"] == "unreadable"
    assert main(["runs", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "unreadable" in out
    assert f"note: lm-gru-recorded: {entry['message']}" in " ".join(out.split())


def test_a_config_json_with_a_lone_surrogate_is_unreadable_and_says_where(tmp_path, capsys):
    # JSON may write a surrogate alone; read as text it could not be printed or written again.
    root, run = _recorded_copy(tmp_path)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config["prefix"] = "time \udc80"
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (entry,) = list_runs(root)
    assert entry["status"] == "unreadable"
    assert "prefix holds a lone surrogate (\\udc80)" in entry["message"]
    assert main(["runs", "--dir", str(root)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: lm-gru-recorded: cannot read" in out and "lone surrogate" in out
    assert main(["runs", "--dir", str(root), "--json"]) == 0
    json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("event", IMPLAUSIBLE_EPOCHS)
def test_an_epoch_event_a_trainer_could_not_write_is_ignored(tmp_path, event):
    root, run = _recorded_copy(tmp_path)
    (before,) = list_runs(root)
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")
    (after,) = list_runs(root)
    keys = ("epoch", "best_val_ppl", "best_bleu")
    assert [after[k] for k in keys] == [before[k] for k in keys]
    assert before["best_val_ppl"] >= 1


def test_runs_dir_naming_a_run_folder_says_to_pass_its_parent(tmp_path, capsys):
    root, run = _recorded_copy(tmp_path)
    assert main(["runs", "--dir", str(run)]) == 0
    out = capsys.readouterr().out
    assert "it is a run folder itself; pass its parent" in out and str(root) in out


def test_runs_names_a_bidirectional_model_as_the_app_does(tmp_path, capsys, monkeypatch):
    # A --bidirectional LM was listed as plain "lstm"; the app's header says "lstm bidir".
    import shutil

    monkeypatch.setenv("COLUMNS", "160")
    recorded = Path(__file__).parent / "fixtures" / "recorded-classify"
    shutil.copytree(recorded, tmp_path / "runs")
    assert main(["runs", "--dir", str(tmp_path / "runs"), "--json"]) == 0
    runs = {e["name"]: e for e in json.loads(capsys.readouterr().out)["runs"]}
    assert (runs["lm-bi-recorded"]["model"], runs["lm-bi-recorded"]["bidirectional"]) == (
        "lstm",
        True,
    )
    assert runs["lm-uni-recorded"]["bidirectional"] is False
    assert main(["runs", "--dir", str(tmp_path / "runs")]) == 0
    rows = {
        line.split()[1]: line
        for line in capsys.readouterr().out.splitlines()
        if "-recorded" in line
    }
    assert "lstm bidir" in rows["lm-bi-recorded"] and "bidir" not in rows["lm-uni-recorded"]
    assert "gru bidir" in rows["tag-bi-recorded"]


@pytest.mark.parametrize("damage", ["", "garbage{", "[1, 2, 3]"])
def test_a_damaged_status_json_loses_only_the_status(tmp_path, capsys, damage):
    root, run = _recorded_copy(tmp_path)
    (run / "status.json").unlink()
    (intact,) = list_runs(root)
    (run / "status.json").write_text(damage, encoding="utf-8")
    (entry,) = list_runs(root)
    keys = ("model", "task", "epoch", "epochs", "best_val_ppl")
    assert [entry[k] for k in keys] == [intact[k] for k in keys]
    assert entry["status"] == "unknown" and "status.json is unreadable" in entry["message"]
    assert main(["runs", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"{intact['epoch']}/{intact['epochs']}" in out and "│ gru" in out
    assert "note: lm-gru-recorded: status.json is unreadable" in out


def test_a_run_folder_whose_name_is_not_utf8_is_listed_with_its_bytes_escaped(tmp_path, capsys):
    from rich.cells import cell_len

    from rnn_tui.runs.discover import discover_checkpoints
    from rnn_tui.tui.widgets.train_runs import run_prompt

    root, run = _recorded_copy(tmp_path)
    odd = root / os.fsdecode(b"bad\xffname")
    shutil.copytree(run, odd)
    (odd / "checkpoints").mkdir()
    (entry,) = [e for e in list_runs(root) if e["path"] == str(odd)]
    assert entry["name"] == "bad\\xffname"
    assert run_prompt(entry, None).plain.endswith("bad\\xffname")
    assert main(["runs", "--dir", str(root), "--json"]) == 0
    shown = {e["name"]: e for e in json.loads(capsys.readouterr().out)["runs"]}
    assert os.fsencode(shown["bad\\xffname"]["path"]) == os.fsencode(odd)
    assert main(["runs", "--dir", str(root)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("│")]
    assert any("bad\\xffname" in row for row in rows)
    assert len({cell_len(row) for row in rows}) == 1  # every row as wide: nothing shifted
    # The Generate picker's list of checkpoints names the run the same way.
    picked = tmp_path / "picked"
    forecast = Path(__file__).parent / "fixtures" / "recorded-forecast" / "forecast-mlp-recorded"
    shutil.copytree(forecast, picked / os.fsdecode(b"bad\xffname"))
    labels = [e["label"] for e in discover_checkpoints(picked, shipped=[])]
    assert labels == ["bad\\xffname/best · forecast · run"]


def test_no_runs_in_the_default_folder_says_how_to_look_elsewhere(tmp_path, capsys, monkeypatch):
    # From another folder, `rnn-tui runs` looked in its ./runs and said only "no runs yet".
    monkeypatch.delenv("RNN_TUI_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert f"no runs in {tmp_path / 'runs'} yet" in out
    assert "--dir ROOT or $RNN_TUI_RUNS" in out


STATUS_LINE = "running|paused|stopped|finished|failed"


@pytest.mark.parametrize(
    ("file", "edit", "note"),
    [
        ("status.json", {"status": 5}, f'status.json: "status" is 5, not one of {STATUS_LINE}'),
        ("status.json", {}, f'status.json: there is no "status" (one of {STATUS_LINE})'),
        (
            "status.json",
            {"status": "done"},
            f"status.json: \"status\" is 'done', not one of {STATUS_LINE}",
        ),
        ("status.json", {"status": "finished", "message": 5}, '"message" is 5, not text'),
        ("status.json", {"status": "running", "pid": "me"}, "\"pid\" is 'me', not a process id"),
        ("status.json", {"status": "finished", "updated": -1}, '"updated" is -1, not a time'),
        ("config.json", {"epochs": "x"}, "config.json: epochs must be an integer"),
        ("config.json", {"hidden": 0}, "config.json: hidden must be an integer in [1, "),
        ("config.json", {"task": 5}, 'config.json: "task" is 5, not one of lm|seq2seq|'),
        (
            "metrics.jsonl",
            {"event": "epoch", "epoch": -1, "val_ppl": 2.0},
            'metrics.jsonl: 1 epoch line ignored (the first: "epoch" is -1, not a whole number',
        ),
        (
            "metrics.jsonl",
            {"event": "epoch", "epoch": 3, "val_ppl": 0.5},
            'metrics.jsonl: 1 epoch line ignored (the first: "val_ppl" is 0.5, not a number at '
            "least 1)",
        ),
    ],
)
def test_a_field_of_the_wrong_type_or_range_gets_a_note(
    tmp_path, capsys, monkeypatch, file, edit, note
):
    # Valid JSON of the wrong shape ({"status": 5}) showed as "unknown" without a word, where a
    # garbled file got a note under the table.
    from rnn_tui.tui.widgets.train_runs import run_details

    root, run = _recorded_copy(tmp_path)
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.json").write_text("{}", encoding="utf-8")
    (intact,) = list_runs(root)
    assert intact["notes"] == []
    path = run / file
    if file == "metrics.jsonl":
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(edit) + "\n")
    else:
        record = {} if file == "status.json" else json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**record, **edit}), encoding="utf-8")
    (entry,) = list_runs(root)
    assert len(entry["notes"]) == 1 and note in entry["notes"][0], entry["notes"]
    if file == "status.json":
        assert entry["status"] in ("unknown", *STATUS_LINE.split("|"))
    assert note in run_details(entry).replace("\n", " ")  # the app's run list
    assert main(["runs", "--dir", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["notes"] == entry["notes"]
    monkeypatch.setenv("COLUMNS", "300")
    assert main(["runs", "--dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"note: lm-gru-recorded: {entry['notes'][0]}" in out


def test_a_run_that_is_over_is_read_again_only_when_its_files_change(tmp_path, monkeypatch):
    """The Train screen lists the folder every few seconds: a finished run's files are read
    once, then again whenever any of them changes, however it changes."""
    from rnn_tui.runs import listing

    root, run = _recorded_copy(tmp_path)
    reads: list[str] = []
    run_entry = listing.run_entry

    def counted(folder):
        reads.append(folder.name)
        return run_entry(folder)

    monkeypatch.setattr(listing, "run_entry", counted)
    (first,) = list_runs(root)
    first["notes"].append("changed by a caller")  # a copy: the next listing is untouched
    (again,) = list_runs(root)
    assert reads == ["lm-gru-recorded"] and "changed by a caller" not in again["notes"]
    assert again["epoch"] == 12 and again["status"] == "finished"

    epoch = {"event": "epoch", "time": 1790000300.0, "epoch": 13, "epochs": 13, "val_ppl": 5.5}
    with open(run / "metrics.jsonl", "a") as f:  # appended
        f.write(json.dumps(epoch) + "\n")
    assert list_runs(root)[0]["epoch"] == 13
    status = {"status": "stopped", "message": "by hand", "updated": 1790000301.0}
    (run / "status.new").write_text(json.dumps(status))
    os.replace(run / "status.new", run / "status.json")  # replaced, as the trainer writes it
    assert list_runs(root)[0]["status"] == "stopped"
    text = (run / "config.json").read_text()
    (run / "config.json").write_text(text.replace('"epochs": 12', '"epochs": 99'))
    os.utime(run / "config.json", ns=(1, 1))  # edited in place, whatever its time says
    assert list_runs(root)[0]["epochs"] == 99
    assert reads == ["lm-gru-recorded"] * 4
    list_runs(root)
    assert len(reads) == 4

    shutil.rmtree(run)
    assert list_runs(root) == [] and run not in listing._entries
