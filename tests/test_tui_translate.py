"""The Translate console driven by keys (Pilot).

Most tests feed the screen a FakeTranslator: recorded greedy and beam outputs for the seeds'
sentences, no model and no timing, so what the screen shows is known exactly. Discovery is
pointed at a folder holding one fake seq2seq checkpoint (its JSON is real, the tensors file is a
placeholder the fake never reads). One test translates with a real tiny checkpoint through
rnn_tui.decode.translate.load_translator.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from rnn_tui.decode.options import OptionError, parse_translate_options
from rnn_tui.decode.search import Candidate, sequence_score
from rnn_tui.decode.translate import Translation, normalize, tokenize
from rnn_tui.metrics.bleu import bleu
from rnn_tui.runs import discover
from rnn_tui.runs.discover import format_facts
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.screens.translate import EMPTY_MESSAGE, SEEDS_EXAMPLES, TranslateScreen
from rnn_tui.tui.widgets.checkpoint_picker import PATH
from rnn_tui.tui.widgets.facts_line import fitted_facts
from rnn_tui.tui.widgets.translate_input import join_lines, split_sentences
from rnn_tui.tui.widgets.translate_results import TranslationResults
from rnn_tui.tui.widgets.translate_tables import BeamTable, SentenceTable

UNK, PAD, BOS, EOS = "<unk>", "<pad>", "<bos>", "<eos>"
SRC_TOKENS = [UNK, PAD, BOS, EOS, "go", ".", "i", "lost", "he's", "calm", "i'm", "home", "!"]
TGT_TOKENS = [UNK, PAD, BOS, EOS, "va", "!", "j'ai", "perdu", ".", "il", "est", "calme"]
TGT_TOKENS += ["je", "suis", "chez", "moi", "bouge", "rentré", "elle"]

# Source as the model reads it (unknown words as <unk>) → (greedy, beam candidates): each
# output is (target words, Σ log P, finished). Made-up but plausible numbers; the scores are
# computed from them with the α asked for, as the real search does.
RECORDED: dict[str, tuple[tuple, list[tuple]]] = {
    "go .": (
        (("va", "!"), -0.42, True),
        [
            (("va", "!"), -0.42, True),
            (("bouge", "!"), -1.91, True),
            (("va", "."), -2.35, True),
            (("va", "!", "!"), -3.10, True),
        ],
    ),
    "i lost .": (
        (("j'ai", "perdu", "."), -0.88, True),
        [
            (("j'ai", "perdu", "."), -0.88, True),
            (("je", "suis", "perdu", "."), -2.02, True),
            (("j'ai", "perdu", "!"), -2.64, True),
            (("j'ai", "."), -2.90, True),
        ],
    ),
    "he's calm .": (
        (("il", "est", "est", "calme", "calme"), -4.70, False),
        [
            (("il", "est", "calme", "."), -1.35, True),
            (("il", "est", "calme", "!"), -2.80, True),
            (("elle", "est", "calme", "."), -3.05, True),
            (("il", "est", "est", "calme", "calme"), -4.70, False),
        ],
    ),
    "i'm home .": (
        (("je", "suis", "chez", "moi", "."), -1.10, True),
        [
            (("je", "suis", "chez", "moi", "."), -1.10, True),
            (("je", "suis", "rentré", "."), -1.62, True),
            (("je", "suis", "chez", "moi", "!"), -2.95, True),
            (("suis", "chez", "moi", "."), -3.40, True),
        ],
    ),
}
FALLBACK = ((UNK, "."), -2.5, True)


class FakeTranslator:
    """Duck-typed rnn_tui.decode.translate.Translator with RECORDED outputs; `calls` records
    (sentences, beam_size, alpha, max_len, references) of every translate_many."""

    def __init__(self, checkpoint: Path) -> None:
        self.checkpoint = checkpoint
        self.config = {"task": "seq2seq", "num_steps": 10}
        self.src_vocab = SRC_TOKENS
        self.tgt_vocab = TGT_TOKENS
        self.warnings: list[str] = []
        self.calls: list[tuple] = []

    def text(self, tokens) -> str:
        return " ".join(TGT_TOKENS[i] for i in tokens)

    def _candidate(self, recorded: tuple, alpha: float) -> Candidate:
        words, log_prob, finished = recorded
        tokens = tuple(TGT_TOKENS.index(w) for w in words)
        length = len(tokens) + (1 if finished else 0)
        return Candidate(
            tokens, log_prob, length, sequence_score(log_prob, length, alpha), finished
        )

    def translate_many(
        self, sentences, beam_size=4, alpha=0.75, max_len=None, references=None, **watch
    ):
        references = list(references) if references is not None else [None] * len(sentences)
        self.calls.append((list(sentences), beam_size, alpha, max_len, references))
        out = []
        for sentence, reference in zip(sentences, references, strict=True):
            toks = tokenize(sentence)
            unknown = list(dict.fromkeys(t for t in toks if t not in SRC_TOKENS))
            key = " ".join(UNK if t in unknown else t for t in toks)
            greedy_rec, beam_rec = RECORDED.get(key, (FALLBACK, [FALLBACK]))
            greedy = self._candidate(greedy_rec, alpha)
            beam = []
            if beam_size > 1:
                beam = sorted((self._candidate(r, alpha) for r in beam_rec), key=lambda c: -c.score)
                beam = beam[:beam_size]
            greedy_text = self.text(greedy.tokens)
            beam_text = self.text(beam[0].tokens) if beam else greedy_text
            out.append(
                Translation(
                    source=sentence,
                    source_tokens=toks,
                    unknown=unknown,
                    greedy=greedy,
                    greedy_text=greedy_text,
                    beam=beam,
                    beam_text=beam_text,
                    reference=reference,
                    bleu=None if reference is None else bleu(beam_text, normalize(reference), 2),
                )
            )
        return out


def write_fake_checkpoint(folder: Path, name: str = "fra-eng-tiny") -> Path:
    """A seq2seq checkpoint's JSON as the trainer writes it (for discovery and the facts line)
    beside a placeholder tensors file; returns the .safetensors path."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": 1,
        "config": {"task": "seq2seq", "pairs": "fra-eng", "num_steps": 10},
        "model_config": {
            "model": "seq2seq",
            "src_vocab_size": len(SRC_TOKENS),
            "tgt_vocab_size": len(TGT_TOKENS),
            "embed": 32,
            "hidden": 32,
            "layers": 2,
            "dropout": 0.1,
            "bidirectional": False,
        },
        "epoch": 300,
        "step": 3000,
        "metrics": {"train_ppl": 1.21, "val_ppl": 4.87, "bleu": 41.3},
    }
    (folder / f"{name}.json").write_text(json.dumps(meta))
    tensors = folder / f"{name}.safetensors"
    tensors.write_bytes(b"placeholder")
    return tensors


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """One fake checkpoint, the only one discovery finds, translated by FakeTranslator; the
    working directory is its folder (paths show as bare names) and the clock never moves."""
    folder = tmp_path / "checkpoints"
    tensors = write_fake_checkpoint(folder)
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "no-shipped-checkpoints")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    monkeypatch.chdir(folder)
    monkeypatch.setattr(TranslateScreen, "clock", staticmethod(lambda: 0.0))
    translators: list[FakeTranslator] = []

    def load(path: str) -> FakeTranslator:
        translators.append(FakeTranslator(Path(path)))
        return translators[-1]

    monkeypatch.setattr(TranslateScreen, "loader", staticmethod(load))
    return tensors, translators


@pytest.fixture
def start_here(monkeypatch):
    """Open the app on the Translate screen, skipping the Dataset screen's corpus load (the
    first test shows key 4 gets there)."""
    monkeypatch.setattr(RnnTuiApp, "DEFAULT_MODE", "translate")


async def open_translate(pilot, tui) -> TranslateScreen:
    await tui.settle(pilot)
    if not isinstance(pilot.app.screen, TranslateScreen):
        await pilot.press("4")
        await tui.settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TranslateScreen)
    for field in screen.query(Input):
        field.cursor_blink = False
    return screen


async def set_field(pilot, screen, selector: str, value: str) -> None:
    field = screen.query_one(selector, Input)
    field.value = value
    field.focus()
    await pilot.pause()


def table_text(table) -> list[str]:
    """The lines a DataTable draws (header first), as plain text."""
    return [table.render_line(y).text for y in range(table.size.height)]


def results(screen) -> TranslationResults:
    return screen.query_one(TranslationResults)


async def test_key_4_opens_translate_and_enter_shows_greedy_and_beam(fake, tui):
    tensors, translators = fake
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        assert app.screen.sub_title == "Translate"
        assert screen.query_one("#tr-checkpoint", Select).value == str(tensors)
        facts = str(screen.query_one("#tr-facts").render())
        assert facts == (
            "seq2seq ×2 layers · hidden 32 · vocab 13 → 19 · num_steps 10 · val ppl 4.87 · "
            "BLEU 41.3 · epoch 300\nfra-eng-tiny.safetensors"  # broken between parts
        )
        assert app.focused is screen.query_one("#tr-source")
        await set_field(pilot, screen, "#tr-source", "He's calm.")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert translators[-1].calls[-1] == (["He's calm."], 4, 0.75, None, [None])
        [row] = results(screen).rows
        assert row.translation.greedy_text == "il est est calme calme"
        assert row.translation.beam_text == "il est calme ."
        lines = table_text(screen.query_one(SentenceTable))
        assert lines[0].split() == ["#", "source", "greedy", "beam", "k=4"]
        assert lines[1].split() == "1 he's calm . il est est calme calme il est calme .".split()
        beam = table_text(screen.query_one(BeamTable))
        assert beam[0].split() == ["#", "translation", "log", "P", "L", "score", "end"]
        # Best first by log P / L^0.75; the greedy output was cut at max length (no <eos>).
        assert beam[1].split() == ["1", "il", "est", "calme", ".", "-1.350", "5", "-0.404", "eos"]
        assert beam[4].split()[-4:] == ["-4.700", "5", "-1.406", "cut"]
        assert "= greedy" in beam[4]
        assert screen.status == "translated 1 sentence · beam 4, α 0.75"
        assert tui.errors(app) == []


async def test_a_result_builds_its_beam_table_once(fake, tui, monkeypatch):
    # The first result is selected, then its row's highlight selects it again: the beam table
    # was built twice (64 candidates: a second 100 ms of held event loop).
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        beam = screen.query_one(BeamTable)
        built = []
        set_items = beam.set_items
        monkeypatch.setattr(
            beam, "set_items", lambda items: built.append(len(items)) or set_items(items)
        )
        await set_field(pilot, screen, "#tr-source", "He's calm.")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert built == [0, 4]  # emptied for the request, then filled once
        assert len(table_text(beam)) > 4 and beam.row is results(screen).rows[0]


async def test_the_beam_table_builds_rows_for_the_best_candidates_only(fake, tui, monkeypatch):
    """Beam search keeps every step's ended hypotheses: beam 64 and max length 200 gave one long
    sentence 4,246 candidates, and a row built for each held the event loop 5 s."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-source", "He's calm.")
        await pilot.press("enter")
        await tui.settle(pilot)
        shown = results(screen)
        [row] = shown.rows
        many = [
            Candidate((4, 5, 6), -0.1 * i, 4, sequence_score(-0.1 * i, 4), True)
            for i in range(1000)
        ]
        big = dataclasses.replace(
            row,
            translation=dataclasses.replace(row.translation, beam=many),
            candidate_texts=tuple(f"il est calme {i} ." for i in range(1000)),
        )
        beam = screen.query_one(BeamTable)
        added = []
        add_row = beam.add_row
        monkeypatch.setattr(beam, "add_row", lambda *a, **k: added.append(1) or add_row(*a, **k))
        screen.query_one(SentenceTable).items[0] = big
        shown.select(0)
        await pilot.pause()
        assert len(added) == beam.row_count == 64  # the best ones, not 1,000
        assert table_text(beam)[1].split()[:5] == ["1", "il", "est", "calme", "0"]
        assert beam.border_title.startswith("sentence 1: 1,000 candidates, the best 64 shown")


async def test_the_examples_key_fills_and_translates_them_leaving_the_focus(fake, start_here, tui):
    """ctrl+s puts the seeds' examples in the field and translates them; the cursor goes to the
    text's end and the focus stays where it was, so a screen key pressed next still switches
    screens and a key typed in the field lands after the examples, not inside them."""
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        field = screen.query_one("#tr-source", Input)
        await set_field(pilot, screen, "#tr-source", "go .")
        field.cursor_position = 2
        screen.query_one(SentenceTable).focus()
        await pilot.press("ctrl+s")
        await tui.settle(pilot)
        assert field.value == SEEDS_EXAMPLES
        assert field.cursor_position == len(SEEDS_EXAMPLES)
        assert app.focused is screen.query_one(SentenceTable)
        assert len(results(screen).rows) == 4
        field.focus()
        await pilot.press("ctrl+s", "!")
        assert field.value == SEEDS_EXAMPLES + "!"


async def test_references_give_bleu_and_several_a_corpus_bleu(fake, start_here, tui):
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        # The source field starts empty (what a new user types is not added to other text);
        # enter on it says what to do, and ctrl+s gives the seeds' sentences and references.
        assert screen.query_one("#tr-source", Input).value == ""
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(app)[-1] == (
            "type an English sentence to translate (ctrl+s: the seeds' examples)"
        )
        await pilot.press("ctrl+s")
        await tui.settle(pilot)
        assert screen.query_one("#tr-source", Input).value == SEEDS_EXAMPLES
        rows = results(screen).rows
        assert [r.translation.reference for r in rows] == [
            "va !",
            "j'ai perdu .",
            "il est calme .",
            "je suis chez moi .",
        ]
        assert [r.translation.bleu for r in rows] == [1.0, 1.0, 1.0, 1.0]
        assert rows[2].greedy_bleu == pytest.approx(
            bleu("il est est calme calme", "il est calme .")
        )
        lines = table_text(screen.query_one(SentenceTable))
        # The column is the beam's BLEU (the greedy text's, 0.5 here, is on the detail line).
        assert lines[0].split()[-2:] == ["beam", "BLEU"]
        assert lines[1].split()[-1] == "1.000"
        status = screen.status
        prefix = "translated 4 sentences · beam 4, α 0.75 · corpus BLEU (4 references): greedy "
        assert status.startswith(prefix)
        assert status.endswith(", beam 100.0")
        # Selecting a sentence shows its reference and both BLEU scores, and its beam.
        screen.query_one(SentenceTable).focus()
        await pilot.press("down", "down")
        await pilot.pause()
        detail = str(screen.query_one("#tr-detail").render())
        assert detail.startswith("3 he's calm .  reference il est calme .  BLEU greedy 0.")
        assert detail.endswith(" beam 1.000")
        assert "sentence 3" in screen.query_one(BeamTable).border_title


async def test_unknown_words_are_shown_as_unk_and_listed(fake, start_here, tui):
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-source", "i lost xyzzy . ; go .")
        await pilot.press("enter")
        await tui.settle(pilot)
        rows = results(screen).rows
        assert [r.source_shown for r in rows] == ["i lost <unk> .", "go ."]
        assert table_text(screen.query_one(SentenceTable))[1].split()[:5] == [
            "1",
            "i",
            "lost",
            "<unk>",
            ".",
        ]
        detail = str(screen.query_one("#tr-detail").render())
        assert "⚠ 1 word not in the source vocabulary → <unk>: 'xyzzy'" in detail
        # The <unk> cell is styled apart from its neighbours.
        table = screen.query_one(SentenceTable)
        segments = list(table.render_line(1))
        unk_style = next(s.style for s in segments if s.text.strip() == "<unk>")
        lost_style = next(s.style for s in segments if "lost" in s.text)
        assert unk_style != lost_style


async def test_bad_options_notify_and_the_app_stays_up(fake, start_here, tui):
    tensors, translators = fake
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_translate(pilot, tui)
        await set_field(pilot, screen, "#tr-source", "go .")
        await pilot.press("enter")
        await tui.settle(pilot)
        calls = len(translators[-1].calls)
        for selector, value, fragment in [
            ("#tr-beam-size", "0", "beam size must be an integer in [1, 64] (got '0')"),
            ("#tr-beam-size", "four", "beam size must be an integer in [1, 64] (got 'four')"),
            ("#tr-beam-size", "65", "beam size"),
            ("#tr-alpha", "-1", "α (alpha) must be a number in [0, 10]"),
            ("#tr-alpha", "nan", "α (alpha) must be a number in [0, 10]"),
            ("#tr-max-len", "0", "max length must be an integer in [1, 200], or empty"),
        ]:
            good = screen.query_one(selector, Input).value
            await set_field(pilot, screen, selector, value)
            await pilot.pause()
            assert screen.query_one(selector, Input).has_class("-invalid")
            await pilot.press("enter")
            await tui.settle(pilot)
            assert tui.errors(app)[-1] == fragment or tui.errors(app)[-1].startswith(fragment)
            await set_field(pilot, screen, selector, good)
        assert len(translators[-1].calls) == calls  # nothing was translated with a bad value
        assert [r.translation.beam_text for r in results(screen).rows] == ["va !"]
        await set_field(pilot, screen, "#tr-source", " ; ")
        await pilot.press("enter")
        assert tui.errors(app)[-1].startswith("type an English sentence to translate")
        await set_field(pilot, screen, "#tr-source", "=> va !")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(app)[-1] == "no sentence to translate in '=> va !'"
        assert [r.translation.beam_text for r in results(screen).rows] == ["va !"]
        # Beam size 1 is greedy: no beam, the greedy candidate alone below.
        await set_field(pilot, screen, "#tr-beam-size", "1")
        await set_field(pilot, screen, "#tr-source", "he's calm .")
        await pilot.press("enter")
        await tui.settle(pilot)
        [row] = results(screen).rows
        assert (
            row.translation.beam == [] and row.translation.beam_text == row.translation.greedy_text
        )
        assert len(screen.query_one(BeamTable).items) == 1
        assert app.is_running


async def test_without_checkpoints_the_screen_says_how_to_get_one(
    tmp_path, monkeypatch, start_here, tui
):
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_translate(pilot, tui)
        assert screen.query_one("#tr-checkpoint", Select).value == PATH
        assert screen.query_one("#tr-path-row").display
        assert results(screen).message == EMPTY_MESSAGE
        assert "rnn-tui train --task seq2seq" in results(screen).message
        assert screen.status.startswith("no seq2seq checkpoints found")
        await pilot.press("enter")
        assert tui.errors(app)[-1] == "choose a seq2seq checkpoint first, or type its path (ctrl+o)"
        assert app.is_running


async def test_a_language_model_checkpoint_is_refused_in_one_line(
    tmp_path, monkeypatch, start_here, tui
):
    from lm_fixtures import save_untrained

    from rnn_tui.data.vocab import Vocab

    lm = save_untrained(
        tmp_path / "lm", Vocab(list("time traveller")), {"model": "gru", "hidden": 8}
    )
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_translate(pilot, tui)
        await pilot.press("ctrl+o")
        assert app.focused is screen.query_one("#tr-path")
        await set_field(pilot, screen, "#tr-path", str(lm))
        await pilot.press("enter")
        await tui.settle(pilot)
        error = tui.errors(app)[-1]
        assert "language-model checkpoint; translate needs a seq2seq one" in error
        assert "\n" not in error
        assert app.is_running


def tiny_seq2seq_checkpoint(folder: Path) -> Path:
    """An untrained 1-layer seq2seq (embed 8, hidden 16) over the seeds' four pairs' words,
    saved as the trainer saves one."""
    import torch

    from rnn_tui.checkpoints.checkpoint import save_checkpoint
    from rnn_tui.data.translation import RESERVED_TOKENS
    from rnn_tui.data.vocab import Vocab
    from rnn_tui.models.seq2seq import build_seq2seq

    pairs = [("go .", "va !"), ("i lost .", "j'ai perdu ."), ("he's calm .", "il est calme .")]
    src = Vocab([s.split() for s, _ in pairs], reserved_tokens=RESERVED_TOKENS)
    tgt = Vocab([t.split() for _, t in pairs], reserved_tokens=RESERVED_TOKENS)
    torch.manual_seed(0)
    model = build_seq2seq(
        {
            "model": "seq2seq",
            "src_vocab_size": len(src),
            "tgt_vocab_size": len(tgt),
            "embed": 8,
            "hidden": 16,
            "layers": 1,
            "dropout": 0.0,
        }
    )
    meta = {
        "config": {"task": "seq2seq", "pairs": "fra-eng", "num_steps": 8},
        "src_vocab": src.to_dict(),
        "tgt_vocab": tgt.to_dict(),
        "epoch": 0,
        "step": 0,
    }
    return save_checkpoint(folder, "tiny-seq2seq", model, None, meta)


async def test_a_real_tiny_checkpoint_translates_as_load_translator_does(
    tmp_path, monkeypatch, start_here, tui
):
    from rnn_tui.decode.translate import load_translator

    folder = tmp_path / "checkpoints"
    path = tiny_seq2seq_checkpoint(folder)
    monkeypatch.setattr(discover, "SHIPPED_DIR", tmp_path / "none")
    monkeypatch.setenv("RNN_TUI_CHECKPOINTS", str(folder))
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        assert screen.checkpoint_paths == [str(path)]
        assert "vocab " in str(screen.query_one("#tr-facts").render())
        await set_field(pilot, screen, "#tr-beam-size", "3")
        await set_field(pilot, screen, "#tr-source", "go . => va ! ; he's calm xyzzy .")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert tui.errors(app) == []
        expected = load_translator(path).translate_many(
            ["go .", "he's calm xyzzy ."], beam_size=3, references=["va !", None]
        )
        rows = results(screen).rows
        assert [r.translation.greedy_text for r in rows] == [t.greedy_text for t in expected]
        assert [r.translation.beam_text for r in rows] == [t.beam_text for t in expected]
        assert rows[0].translation.bleu == expected[0].bleu
        assert rows[1].translation.unknown == ["xyzzy"]
        assert len(screen.query_one(BeamTable).items) == len(expected[0].beam) <= 3
        assert screen.status.startswith("translated 2 sentences in ")


async def test_pasting_several_lines_keeps_them_all(fake, start_here, tui):
    from textual import events

    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_translate(pilot, tui)
        field = screen.query_one("#tr-source", Input)
        field.value = ""
        field.focus()
        field.post_message(events.Paste("go . => va !\n\n i lost .\n"))
        await pilot.pause()
        assert field.value == "go . => va ! ; i lost ."
        await pilot.press("enter")
        await tui.settle(pilot)
        assert [r.translation.source for r in results(screen).rows] == ["go .", "i lost ."]


def test_sentences_split_on_semicolons_and_lines():
    assert split_sentences("go . ; i lost .\nhe's calm . => il est calme .;; ") == [
        "go .",
        "i lost .",
        "he's calm . => il est calme .",
    ]
    assert split_sentences(" ;\n ") == []
    assert join_lines("a\n\n b \nc") == "a ; b ; c"


def test_options_parse_or_say_what_is_wrong():
    assert parse_translate_options("4", "0.75", "") == parse_translate_options(" 4 ", ".75", " ")
    opts = parse_translate_options("1", "0", "25")
    assert (opts.beam_size, opts.alpha, opts.max_len) == (1, 0.0, 25)
    for beam, alpha, max_len, fragment in [
        ("0", "0.75", "", "beam size"),
        ("2.5", "0.75", "", "beam size"),
        ("4", "inf", "", "α"),
        ("4", "-0.1", "", "α"),
        ("4", "0.75", "201", "max length"),
        ("4", "0.75", "x", "max length"),
    ]:
        with pytest.raises(OptionError, match=fragment):
            parse_translate_options(beam, alpha, max_len)


def test_facts_name_what_is_known():
    assert format_facts({}, None) == ""
    facts = {"model": "seq2seq", "bidirectional": True, "layers": 1, "src_vocab": 1200}
    assert format_facts(facts, None) == "seq2seq bidirectional"


def test_the_facts_line_breaks_between_parts_and_keeps_the_path():
    """At 80 columns the second line ended in a dangling "·" and the path was cut off."""
    parts = "seq2seq ×2 layers · additive attention · hidden 512 · vocab 4,047 → 6,567"
    parts += " · num_steps 10 · val ppl 3.11 · BLEU 31.5 · epoch 9"
    path = "checkpoints/fra-eng-attention.safetensors"
    assert fitted_facts(parts.split(" · "), path, 78).split("\n") == [
        "seq2seq ×2 layers · additive attention · hidden 512 · vocab 4,047 → 6,567",
        "num_steps 10 · val ppl 3.11 · BLEU 31.5 · …oints/fra-eng-attention.safetensors",
    ]
    assert fitted_facts(parts.split(" · "), path, 118).split("\n")[1] == f"epoch 9 · {path}"
    assert fitted_facts(parts.split(" · "), path, 30).split("\n") == [
        "seq2seq ×2 layers",
        "…fra-eng-attention.safetensors",
    ]


async def two_checkpoints(pilot, tui, tensors, other):
    """The Translate screen opened with two checkpoints listed: (screen, its picker, the
    checkpoint chosen, the other one)."""
    screen = await open_translate(pilot, tui)
    select = screen.query_one("#tr-checkpoint", Select)
    first = select.value
    return screen, select, first, str(other) if first == str(tensors) else str(tensors)


async def test_choosing_another_checkpoint_translates_the_sentences_shown_again(
    fake, start_here, tui
):
    """The table always holds the translations of the checkpoint named above it: choosing
    another while translations are shown translates the same sentences, with the options
    the fields hold, again; choosing one before anything was translated only loads it."""
    tensors, translators = fake
    other = write_fake_checkpoint(tensors.parent, "fra-eng-other")
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, select, first, second = await two_checkpoints(pilot, tui, tensors, other)
        select.value = second  # nothing translated yet: a load
        await tui.settle(pilot)
        assert [t.calls for t in translators] == [[], []]
        select.value = first
        await tui.settle(pilot)
        await set_field(pilot, screen, "#tr-source", "go . ; i lost .")
        await set_field(pilot, screen, "#tr-beam-size", "2")
        await pilot.press("enter")
        await tui.settle(pilot)
        by_path = {str(t.checkpoint): t for t in translators}
        assert by_path[first].calls == [(["go .", "i lost ."], 2, 0.75, None, [None, None])]
        # The field changed but was not submitted: the table shows what was translated.
        await set_field(pilot, screen, "#tr-source", "he's calm .")
        select.value = second
        await tui.settle(pilot)
        assert by_path[second].calls == [(["go .", "i lost ."], 2, 0.75, None, [None, None])]
        assert [row.translation.source for row in results(screen).rows] == ["go .", "i lost ."]
        assert screen.status == "translated 2 sentences · beam 2, α 0.75"
        assert tui.errors(app) == []


async def test_another_checkpoint_translates_with_the_options_the_fields_hold(
    fake, start_here, tui
):
    """The beam size changed after translating is the one the next checkpoint translates
    with; a bad field is named and the choice gives way to the checkpoint translating."""
    tensors, translators = fake
    other = write_fake_checkpoint(tensors.parent, "fra-eng-other")
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, select, first, second = await two_checkpoints(pilot, tui, tensors, other)
        await set_field(pilot, screen, "#tr-source", "go .")
        await pilot.press("enter")
        await tui.settle(pilot)
        await set_field(pilot, screen, "#tr-beam-size", "1")
        select.value = second
        await tui.settle(pilot)
        by_path = {str(t.checkpoint): t for t in translators}
        assert by_path[second].calls == [(["go ."], 1, 0.75, None, [None])]
        assert screen.status == "translated 1 sentence · beam 1, α 0.75"
        await set_field(pilot, screen, "#tr-beam-size", "")
        select.value = first
        await tui.settle(pilot)
        assert tui.errors(app)[-1].startswith("beam size must be an integer in [1, 64]")
        # … and the checkpoint chosen is said not to be opened (a bad path went unnamed).
        assert tui.errors(app)[-1].endswith(f"; {Path(first).name} was not opened")
        assert select.value == second
        assert len(by_path[first].calls) == 1  # the first translation only
        assert [row.translation.source for row in results(screen).rows] == ["go ."]


async def test_a_checkpoint_that_fails_to_load_gives_way_to_the_one_translating(
    fake, start_here, tui, monkeypatch
):
    """Choosing a listed checkpoint that fails to load (its tensors cut short) with results
    shown: the picker and its facts line name again the checkpoint whose translations the
    table holds, and enter translates with it."""
    from rnn_tui.checkpoints import CheckpointError

    tensors, translators = fake
    broken = write_fake_checkpoint(tensors.parent, "a-broken")
    load = TranslateScreen.loader

    def loader(path: str):
        if Path(path) == broken:
            raise CheckpointError(f"incomplete checkpoint {path}")
        return load(path)

    monkeypatch.setattr(TranslateScreen, "loader", staticmethod(loader))
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_translate(pilot, tui)
        select = screen.query_one("#tr-checkpoint", Select)
        select.value = str(tensors)
        await tui.settle(pilot)
        facts = str(screen.query_one("#tr-facts").render())
        await set_field(pilot, screen, "#tr-source", "go .")
        await pilot.press("enter")
        await tui.settle(pilot)
        errors = len(tui.errors(app))
        select.value = str(broken)
        await tui.settle(pilot)
        assert len(tui.errors(app)) == errors + 1
        assert "incomplete checkpoint" in tui.errors(app)[-1]
        assert select.value == str(tensors)
        assert str(screen.query_one("#tr-facts").render()) == facts
        assert [row.translation.source for row in results(screen).rows] == ["go ."]
        await set_field(pilot, screen, "#tr-source", "i lost .")
        await pilot.press("enter")
        await tui.settle(pilot)
        assert len(tui.errors(app)) == errors + 1
        assert [row.translation.source for row in results(screen).rows] == ["i lost ."]


async def test_a_long_request_never_refits_the_table_as_it_fills(
    fake, start_here, tui, monkeypatch
):
    # 1,000 pasted sentences: reaching sentence 1,000 widened the # column, and re-fitting
    # re-rendered every row, holding the event loop for half a second.
    import traceback

    from rnn_tui.tui.screens import translate_job

    monkeypatch.setattr(translate_job, "UPDATE_INTERVAL", 0.0)  # every chunk is posted
    app = tui.make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_translate(pilot, tui)
        table = screen.query_one(SentenceTable)
        refits = []
        rebuild = table.rebuild

        def counted() -> None:
            # Only a re-fit while rows arrive counts (not begin's, nor the first resize).
            if any(" in append\n" in frame for frame in traceback.format_stack()):
                refits.append(len(table.items))
            rebuild()

        monkeypatch.setattr(table, "rebuild", counted)
        await set_field(pilot, screen, "#tr-source", " ; ".join(["go ."] * 120))
        await pilot.press("enter")
        await tui.settle(pilot)
        assert len(results(screen).rows) == 120
        assert refits == []
        assert table_text(table)[1].startswith("   1 ")  # '#' three digits wide from the start


def test_a_pasted_book_is_shown_cut() -> None:
    # A 300 KB pasted sentence was measured whole in its cell at every redraw: each click on
    # the table held the event loop for seconds.
    from types import SimpleNamespace

    from rnn_tui.tui.widgets.translate_tables import SOURCE_CHARS, ResultRow

    tokens = ["the", "time", "zzz"] * 20_000
    t = SimpleNamespace(source_tokens=tokens, unknown=["zzz"])
    shown = ResultRow(1, t, ()).source_shown
    assert len(shown) < SOURCE_CHARS + 30
    assert shown.startswith("the time <unk> the") and shown.endswith(" tokens)")
    kept = shown.split(" … ")[0].split(" ")
    assert shown.endswith(f"… (+{len(tokens) - len(kept):,} tokens)")
    one = SimpleNamespace(source_tokens=["x" * 100_000], unknown=[])
    assert ResultRow(1, one, ()).source_shown == "x" * SOURCE_CHARS + "…"
    short = SimpleNamespace(source_tokens=["go", "."], unknown=[])
    assert ResultRow(1, short, ()).source_shown == "go ."


def test_a_row_keeps_the_best_candidates_and_how_many_there_were():
    """The worker kept every candidate of every sentence (4,246 texts, 1.9 M characters, for one
    long sentence at beam 64): a batch of such sentences held gigabytes for rows never shown."""
    from types import SimpleNamespace

    from rnn_tui.tui.screens.translate_job import TranslateJob, translate
    from rnn_tui.tui.widgets.translate_tables import BEAM_ROWS

    class ManyCandidates(FakeTranslator):
        def translate_many(self, sentences, **options):
            out = super().translate_many(sentences, **options)
            many = [
                Candidate((4, 5, 6), -0.1 * i, 4, sequence_score(-0.1 * i, 4), True)
                for i in range(1000)
            ]
            return [dataclasses.replace(t, beam=many) for t in out]

    posted = []
    job = TranslateJob(("go .", "he's calm ."), parse_translate_options("8", "0.75", ""))
    worker = SimpleNamespace(is_cancelled=False)
    translate(ManyCandidates(Path("fake")), job, 1, worker, posted.append, lambda: 0.0)
    rows = [row for message in posted for row in getattr(message, "rows", [])]
    assert len(rows) == 2
    for row in rows:
        assert len(row.translation.beam) == len(row.candidate_texts) == BEAM_ROWS
        assert row.candidate_count == 1000
