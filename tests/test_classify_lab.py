"""The Classify screen's runs without Textual: the plans Start makes for each part, where an
opened run goes, which held-out views are due and when a failed one is told."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from rnn_tui.runs.classify_lab import BILM, NAMES, TAG, ClassifyLab
from rnn_tui.runs.rundir import RunError
from rnn_tui.runs.view_pace import VIEW_SHARE, ViewPace

RECORDED = Path(__file__).parent / "fixtures" / "recorded-classify"
COLORS = {
    NAMES: {"none": "cyan+", "weights": "orange+", "sampling": "magenta+"},
    TAG: {"uni": "cyan+", "bi": "orange+"},
    BILM: {"uni": "cyan+", "bi": "orange+"},
}


def lab() -> ClassifyLab:
    return ClassifyLab(COLORS, preset={"model": "lstm", "max_tokens": 10000, "epochs": 40})


def test_plans_put_a_names_run_in_its_balance_slot_and_pair_the_others() -> None:
    plan, refusal = lab().plan(NAMES, {"balance": "sampling", "hidden": 32})
    assert refusal == "" and plan == {
        "sampling": {"task": "classify", "balance": "sampling", "hidden": 32}
    }
    plan, _ = lab().plan(TAG, {"hidden": 64})
    assert plan == {
        "uni": {"task": "tag", "hidden": 64, "bidirectional": False},
        "bi": {"task": "tag", "hidden": 64, "bidirectional": True},
    }
    plan, _ = lab().plan(BILM, {"epochs": 5})
    # The preset, then the form's fields, then the direction.
    assert plan["bi"] == {
        "model": "lstm", "max_tokens": 10000, "epochs": 5, "task": "lm", "bidirectional": True
    }  # fmt: skip


def test_opened_runs_go_to_their_slot_and_their_views_fall_due_once() -> None:
    runs = lab()
    assert runs.open(NAMES, RECORDED / "classify-gru-recorded")[0] == "none"
    assert runs.open(TAG, RECORDED / "tag-bi-recorded")[0] == "bi"
    with pytest.raises(RunError, match="is a run of task classify, not tag"):
        runs.open(TAG, RECORDED / "classify-gru-recorded")
    for pair in runs.pairs.values():
        for followed in pair.slots.values():
            for key, follower in followed.followers.items():
                follower.poll()  # the first read, a worker's job on the screen
                followed.read_done(key)
    due = runs.due_views()
    assert sorted((part, slot) for part, slot, _ in due) == [("names", "none"), ("tag", "bi")]
    assert runs.due_views() == []  # being computed
    assert runs.view_done(NAMES, "none", "view", failed=False) == ""
    assert runs.views[("names", "none")] == "view" and runs.names_slot == "none"
    # A finished run just opened whose checkpoint cannot be read is told and not opened.
    assert runs.view_done(TAG, "bi", None, failed=True) == "not opened"
    assert runs.due_views() == []
    runs.untick(TAG, keep=set())
    assert runs.pairs[TAG].shown() == {} and ("tag", "bi") not in runs.views


def test_a_run_of_another_task_is_sent_where_that_task_s_runs_open() -> None:
    """Every refusal said "open it on the Train screen": a tag run opens on the Classify
    screen's tagging part, a forecast run on the Forecast screen."""
    forecast = RECORDED.parent / "recorded-forecast" / "forecast-gru-recorded"
    refusals = {
        (NAMES, RECORDED / "tag-uni-recorded"): "tag, not classify: open it on the Classify "
        "screen's tagging part",
        (TAG, RECORDED / "classify-gru-recorded"): "classify, not tag: open it on the Classify "
        "screen's names part",
        (BILM, forecast): "forecast, not lm: open it on the Forecast screen",
        (NAMES, RECORDED / "lm-bi-recorded"): "lm, not classify: open it on the Train screen",
    }
    for (part, path), told in refusals.items():
        with pytest.raises(RunError) as refused:
            lab().open(part, path)
        assert str(refused.value) == f"{path.name} is a run of task {told}"


def test_a_run_opened_beside_takes_the_name_field_only_once_it_has_a_view(tmp_path) -> None:
    """Opening (or starting) a names run pointed the name field and the matrix at its slot at
    once: a run stopped before any checkpoint never got a view, and the run beside it with a
    model was left unused ("needs a run", no baselines, no matrix)."""
    new = Path(shutil.copytree(RECORDED / "classify-gru-recorded", tmp_path / "stopped"))
    shutil.rmtree(new / "checkpoints")
    config = json.loads((new / "config.json").read_text(encoding="utf-8"))
    (new / "config.json").write_text(json.dumps({**config, "balance": "weights"}), "utf-8")
    runs = lab()
    runs.open(NAMES, RECORDED / "classify-gru-recorded")
    read_all(runs)
    runs.view_done(NAMES, "none", "finished view", failed=False)
    assert runs.open(NAMES, new)[0] == "weights"
    read_all(runs)
    assert runs.names_slot == "none"
    assert runs.view_done(NAMES, "weights", None, failed=False) == ""
    assert runs.names_view() == ("none", "finished view")
    runs.view_done(NAMES, "weights", "stopped view", failed=False)  # it has a model now
    assert runs.names_view() == ("weights", "stopped view")
    # Its run gone, the name field goes to the run still shown.
    runs.untick(NAMES, keep={runs.pairs[NAMES].shown()["none"]})
    assert runs.names_view() == ("none", "finished view")


def read_all(runs: ClassifyLab) -> None:
    """Every followed run's first read (a worker's job on the screen)."""
    for pair in runs.pairs.values():
        for followed in pair.slots.values():
            for key, follower in followed.followers.items():
                follower.poll()
                followed.read_done(key)


def test_live_runs_views_fall_due_at_the_pace_and_an_ended_run_s_at_once() -> None:
    """Two taggers of a small text finished 5 epochs a second between them: a view computed and
    drawn after every epoch held the event loop over 100 ms in most seconds. Live runs' views
    are computed at most every VIEW_EVERY_S (both in the same poll); an ended run's at once."""
    now = [0.0]
    runs = lab()
    runs.pace = ViewPace(clock=lambda: now[0], cpu=lambda: 0.0)
    epochs = {"uni": 0, "bi": 0}
    status = {"uni": "running", "bi": "running"}

    def snapshots() -> dict:
        return {
            slot: SimpleNamespace(
                path=Path(f"/runs/tag-{slot}"),
                epoch=epochs[slot],
                status=status[slot],
                active=status[slot] == "running",
            )
            for slot in epochs
        }

    runs.pairs[TAG].snapshots = snapshots  # type: ignore[method-assign]
    computed = []
    for poll in range(40):  # 10 s of polls, 4 a second; an epoch of each run every 2 polls
        now[0] = poll / 4
        if poll % 2 == 0:
            epochs["uni"] += 1
            epochs["bi"] += 1
        for part, slot, path in runs.due_views():
            computed.append((poll, slot))
            runs.view_done(part, slot, "view", failed=False, path=path)
            runs.views_drawn()  # as the screen does once it has drawn it
    assert len(computed) == 2 * 5  # both runs every 2 s, not after each of their 20 epochs
    assert [poll for poll, _ in computed] == [0, 0, 8, 8, 16, 16, 24, 24, 32, 32]
    epochs["uni"] += 1  # 1.75 s after both views: uni's waits
    status["bi"] = "finished"
    assert [slot for _, slot, _ in runs.due_views()] == ["bi"]  # ended: not paced


def test_the_taggers_costly_views_wait_until_their_cpu_is_their_share() -> None:
    """The one-way and two-way taggers' views (hidden 256) took 0.9 s of CPU every 2 s: the
    Classify screen used a quarter of a core and the taggers trained 14 % slower. The round's
    CPU, counted once both views are drawn (`views_drawn`), now paces the next round."""
    now, cpu = [0.0], [0.0]
    runs = lab()
    runs.pace = ViewPace(clock=lambda: now[0], cpu=lambda: cpu[0])
    epoch = [0]

    def snapshots() -> dict:
        return {
            slot: SimpleNamespace(
                path=Path(f"/runs/tag-{slot}"), epoch=epoch[0], status="running", active=True
            )
            for slot in ("uni", "bi")
        }

    runs.pairs[TAG].snapshots = snapshots  # type: ignore[method-assign]
    rounds = []
    for poll in range(4 * 60):  # a minute of polls, an epoch each second
        now[0] = poll / 4
        epoch[0] = poll // 4
        due = runs.due_views()
        if due:
            rounds.append(now[0])
        for part, slot, path in due:
            cpu[0] += 0.45
            runs.view_done(part, slot, "view", failed=False, path=path)
            runs.views_drawn()
    gaps = [b - a for a, b in zip(rounds, rounds[1:], strict=False)]
    assert gaps and min(gaps) >= 0.9 / VIEW_SHARE  # not every VIEW_EVERY_S
    assert len(rounds) == 3  # at 1 s (the first epoch), 23.5 s and 46 s
