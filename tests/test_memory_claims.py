"""Memory promised to trainers started beside each other (rnn_tui.checkpoints.memory_claims):
two word-level LSTMs over a 1.08M-word vocabulary, about 12 GB each, both saw 21 GB free and
the kernel killed one in its first step; the second is now refused with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from rnn_tui.checkpoints import memory_claims
from rnn_tui.checkpoints.memory import rss_bytes
from rnn_tui.checkpoints.memory_claims import CLAIM_S, claiming

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="claims need /proc")

# A process whose command line names rnn_tui, as a trainer's does.
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)", "rnn_tui"]


@pytest.fixture
def trainer_beside():
    process = subprocess.Popen(SLEEPER)
    try:
        deadline = time.time() + 10
        # Until it has exec'd: a forked child shows its parent's command line and memory.
        while not memory_claims._trainer(process.pid) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # and its interpreter has started
        yield process.pid
    finally:
        process.kill()
        process.wait()


def claim(folder, pid, need, made=None):
    made = time.time() if made is None else made
    (folder / f"{pid}.json").write_text(json.dumps({"need": need, "time": made}))


def test_a_trainer_counts_what_the_others_have_yet_to_take(tmp_path, trainer_beside):
    folder = tmp_path / "claims"
    with claiming(folder) as claims:
        assert claims.others == [] and claims.outstanding == 0 and claims.describe() == ""
        claims.record(123)
    mine = json.loads((folder / f"{os.getpid()}.json").read_text())
    assert mine["need"] == 123
    taken = rss_bytes(trainer_beside)
    claim(folder, trainer_beside, taken + 2**30)
    with claiming(folder) as claims:
        # Its own claim is not counted; the other's need less what it holds is.
        assert [c.pid for c in claims.others] == [trainer_beside]
        assert abs(claims.outstanding - 2**30) < 2**27  # its resident memory moved a little
        assert f"1 other trainer here (process {trainer_beside}) has yet to take" in (
            claims.describe()
        )
    # One that holds all it asked for has nothing left to take.
    claim(folder, trainer_beside, 1)
    with claiming(folder) as claims:
        assert claims.outstanding == 0 and claims.describe() == ""


def test_gone_stale_and_broken_claims_count_nothing(tmp_path, trainer_beside):
    folder = tmp_path / "claims"
    folder.mkdir(mode=0o700)
    gone = subprocess.Popen([sys.executable, "-c", "pass", "rnn_tui"])
    gone.wait()
    not_ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        claim(folder, gone.pid, 2**40)  # the process is gone: removed
        claim(folder, not_ours.pid, 2**40)  # a reused pid, not a trainer: removed
        claim(folder, trainer_beside, 2**40, made=time.time() - CLAIM_S - 1)  # long past
        (folder / "77.json").write_text("{not json")
        (folder / "notapid.json").write_text(json.dumps({"need": 2**40, "time": time.time()}))
        now = time.time()
        mine = folder / f"{trainer_beside}.json"
        mine.write_text(json.dumps({"need": 2**40, "time": now}))
        with claiming(folder) as claims:
            assert claims.outstanding > 0  # the same claim, well formed, counts
        for bad in (
            {"need": -1, "time": now},
            {"need": True, "time": now},
            {"need": "1e12", "time": now},
            {"need": 2**40, "time": "now"},
            {"need": 2**40, "time": now + 3600},  # made in the future: a clock or a forgery
            {"time": now},
        ):
            mine.write_text(json.dumps(bad))
            with claiming(folder) as claims:
                assert claims.outstanding == 0, bad
        mine.unlink()
        with claiming(folder) as claims:
            assert claims.others == [] and claims.outstanding == 0
        assert not (folder / f"{gone.pid}.json").exists()
        assert not (folder / f"{not_ours.pid}.json").exists()
    finally:
        not_ours.kill()
        not_ours.wait()


def test_a_folder_that_is_not_ours_holds_no_claims(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    with claiming(link) as claims:
        assert claims.folder is None
        claims.record(5)  # nothing written
    assert list(real.iterdir()) == []
    afile = tmp_path / "afile"
    afile.write_text("x")
    with claiming(afile) as claims:
        assert claims.folder is None


def test_the_memory_check_leaves_out_what_a_trainer_beside_has_yet_to_take(
    tmp_path, monkeypatch, trainer_beside
):
    import torch

    from rnn_tui.train import prepare
    from rnn_tui.train.config import Config, ConfigError

    folder = tmp_path / "claims"
    monkeypatch.setattr(memory_claims, "claims_dir", lambda: folder)
    config = Config("lm", device="cpu", hidden=256, max_tokens=2000)
    task = config.spec.load()(config, torch.device("cpu"))
    need = prepare.training_bytes(task.model_config(), config.batch_size, config.num_steps, "sgd")
    have = need["total"] + 2**30
    monkeypatch.setattr(prepare, "available_memory", lambda device: have)
    prepare.check_memory(task.model_config(), config, torch.device("cpu"))  # fits alone
    assert json.loads((folder / f"{os.getpid()}.json").read_text())["need"] == need["total"]
    claim(folder, trainer_beside, rss_bytes(trainer_beside) + 2 * 2**30)
    with pytest.raises(ConfigError) as refused:
        prepare.check_memory(task.model_config(), config, torch.device("cpu"))
    said = str(refused.value)
    assert "available, of which 1 other trainer here" in said and "\n" not in said
    assert f"(process {trainer_beside}) has yet to take" in said
    # A rank of a data-parallel run checks the free memory alone, as its other ranks do at the
    # same moment: one refused while the others went on would leave them waiting for it.
    prepare.check_memory(task.model_config(), config, torch.device("cpu"), claims_here=False)
    # On a GPU the device's own free memory is the check (claims are the CPU's).
    prepare.check_memory(task.model_config(), config, torch.device("meta"))
