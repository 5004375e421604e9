"""What each screen's help (F1) says under its keys: a short guide, in Markdown, to what the
screen shows and how to use it.

One text per screen, declared by the screen as `GUIDE = guides.NAME`, beside its explain panel
(`explanations.py`: the concept and the seeds' formulas). The Translate screen's guide stays in
its module: it lists the worked example the decoders compute, which this module would have to
import at start-up.
"""

from __future__ import annotations

DATASET = """\
**The text pipeline** (d2l *Text Preprocessing*): read the lines, clean them (*clean*: every run of
non-letters becomes a space, then lower-case; *raw*: keep case and punctuation), split each line
into tokens (*word*, or *char* for a character-level model), then build the **vocabulary**.

**Vocabulary** — index 0 is `<unk>` (unknown token); then tokens by descending frequency. Tokens
seen fewer than *min_freq* times are dropped and map to `<unk>`. The corpus a model sees is the
list of indices `vocab[tokens]`.

**n-grams** (d2l *Language Models*) — the most frequent 1-, 2- and 3-grams and their Zipf curves:
frequency against rank is a straight line on a log–log plot, for trigrams too, so counting n-grams
(even Laplace-smoothed: ε₁/m added to each unigram count, ε₂·P(x′) to each bigram count) cannot
model language well. The perplexity is exp of the average negative log-probability of the
held-out last 10 % of the tokens.

**Partitioning** — how long sequences become minibatches: random sampling or sequential
partitioning of subsequences of `num_steps` tokens, X and the labels Y shifted by one.

**Pairs** — the English–French pairs for machine translation: preprocessing, tokenization,
`truncate_pad` to a fixed length, and sentence-length histograms.
"""


TRAIN = """\
**Training a language model** (d2l *RNNs from scratch*, *concise*, *GRU*, *LSTM*): the model
reads `num_steps` tokens at a time and predicts each next one; the loss is the cross-entropy
over all time steps, and **perplexity** = exp(mean loss per token) — 1 is perfect, the
vocabulary size is uniform guessing. Gradients are clipped to norm θ before each update.

**Start** (s) runs `rnn-tui train` with the form's options as a separate process writing a run
directory (runs/ or $RNN_TUI_RUNS); **Pause/Resume** (p) and **Stop** (x) write its control
file (stop = finish the batch, save a checkpoint, exit). A run started here and left running
when you quit keeps training.

**Open** (o) focuses the run list; shift+tab goes up to its path field, where any run
directory opens, even one a headless `rnn-tui train` in another terminal is writing: it is
followed live. Tick several runs in the list to overlay their curves, one colour each. In the
list, **c** continues the highlighted run (stopped or finished) up to the number of epochs you
give, **m** renames its folder and **delete** deletes it — each asks first, and a run a
trainer is at work in is refused before it asks.

**Curves** — perplexity on a log axis (train per logged batch, val per epoch, the smoothed
n-gram baseline of the order ≤ 3 that scores best as a grey line), loss, the gradient norm
before clipping (with θ) and tokens/s, against epochs — or steps or wall time (a). A classify or
tag run has no perplexity: its held-out scores (macro-F1, accuracy or a tagger's F1 of capitals
and of punctuation) are in its place and in the header. On a narrow terminal one plot shows at a
time (v: next). Every plot zooms and pans: focus it (tab or a click), then **+**/**-**, the
arrows, **0** for all of it and **l** for a log or linear y axis; the mouse wheel zooms around
the pointer and a drag pans. The **smoothing** slider under the plots draws the per-step curves
as an exponential moving average over their raw points (grey), as TensorBoard does.

**Compare** (t): the runs table — every listed run's best val perplexity, BLEU, macro-F1 and
tokens/s side by side, with the settings that differ between the ticked runs (or all runs)
in yellow. **<**/**>** choose the column to sort by, **i** inverts, a click on a heading sorts
by it, Enter ticks or unticks a run; t again brings the curves back.

**Translation** (task *seq2seq translation*, d2l §9.7): a GRU encoder–decoder on
English–French pairs, trained with teacher forcing on the masked cross-entropy (perplexity
per target token). After each epoch it reports **BLEU** (0–100, greedy translations of the
held-out pairs, and of those of at most five English words) — its plot replaces tokens/s in
the grid (v still reaches it) — and translates the seeds' four sentences (✓: the book's
reference).
"""


GENERATE = """\
**Prediction with warm-up** (d2l *RNN from scratch*, `predict_ch8`): the model starts from a
zero state and reads the prefix one token at a time without predicting (warm-up), so the hidden
state summarises it; then it predicts the next token, feeds it back as the next input, and so on
for *length* tokens.

**Greedy** takes the most probable token each time (the argmax of the output o): the same
prefix always gives the same text, which often falls into loops ("the the the").
**Sampling** draws the next token from softmax(o / T): a temperature T below 1 sharpens the
distribution (towards greedy), above 1 flattens it (more surprising, more mistakes); *top-k*
(0 = off) draws among the k most probable tokens only. The same seed gives the same text;
leave the seed empty for a fresh one (the status line says which was used).

**The prefix** is cleaned and tokenized as the model's corpus was: in *clean* mode letters are
lower-cased and every run of other characters becomes one space; a character-level model reads
characters, a word-level one words. Tokens the vocabulary does not know become `<unk>`
(highlighted, and listed in a warning line, with the characters cleaning replaced).

**The side panel** shows, for the latest step, the model's five most probable next tokens with
their probabilities softmax(o) (before temperature and top-k); ▸ marks the one chosen.

**Checkpoints** come from the shipped `checkpoints/` folder, `$RNN_TUI_CHECKPOINTS`, and every
run under `runs/` (or `$RNN_TUI_RUNS`); *Path…* takes any `.safetensors` checkpoint or run
directory. Pickle files (`.pt`) are refused: loading one could run code.
"""


FORECAST = """\
**Forecasting** (d2l §8.1, *sequence models*): an **AR model** predicts x_t from the τ values
before it (the seeds' MLP 4 → 10 → 1); a **latent AR model** (RNN, GRU or LSTM) predicts it from
a hidden state that summarises the whole past. Both train on the first n_train feature–label
pairs with a squared loss; the rest of the series is held out.

**Start** (s) trains the two at once, each as an `rnn-tui train --task forecast` process writing
its own run directory (runs/ or $RNN_TUI_RUNS): that is the saved result. **Stop** (x) stops
both; a run left running when you quit keeps training. **Open** (o) ticks saved forecast runs in
the list: an MLP run goes to the AR slot, a recurrent one to the latent slot.

**The panels** — the data with the one-step-ahead predictions (always fed observed values); the
multi-step predictions from the first held-out point, fed on their own output (they flatten out
— the seeds' figure from t = 604); the k-step-ahead predictions for each k of *horizons* (m: the
other model); and the held-out error per k for both models and the naive baselines (last value;
the value one season ago), the best in green (t: MSE, RMSE or MAPE). Errors accumulate, so the
error grows with k. On a narrow terminal one panel shows at a time (v: next).

**Real series**: *airline passengers* (monthly, 1949–1960) or any CSV file with a header row (its
column: the only numeric one, or the one named) or of bare values, one a line. Log and
differencing are what forecasters do with a growing, trending series; every transform is fitted
on the training part only, and forecasts are shown in the series' own units.
"""


GRADIENTS = """\
**Backpropagation through time** (d2l §8.7): the gradient of the loss at step T with respect
to an earlier hidden state is a product of Jacobians, one per step, ∂h_j/∂h_{j−1}. For a linear
RNN each is W_hhᵀ, so ‖∂L/∂h_t‖ shrinks or grows like ρ(W_hh)^{T−t}: below 1 it vanishes,
above 1 it explodes. tanh squashes it further; a GRU's update gate or an LSTM's forget gate
can keep it near 1.

**Flow** — four fresh cells read one random sequence: a tanh RNN with small ρ(W_hh), one
with large ρ, an LSTM with its forget-gate bias, and a linear RNN whose measured norms lie on
its closed form (the grey line). Below: ρ(W_hh) (an LSTM's: ρ(W_hc), its memory candidate's
recurrent weight) and the mean factor per step back; clipping
g ← min(1, θ/‖g‖) g of the large RNN's gradient (its direction is kept: cosine 1) and what
truncating BPTT after τ steps drops. Edit the numbers, then enter or **r**.

**Inside** — choose a language-model checkpoint and type a text (enter reads it). The top line
shades each earlier token by how much it moves the prediction after the step under the cursor
(connectivity); the heatmap shows the hidden units (or a gate) against the tokens, the units
ranked by how closely they follow a feature (a character model's: spaces, vowels, position in
the word, quotes; a word model's: word length, function words, position; **u** the next), and
*unit* puts one unit's row on top. The bottom shows the step unrolled with
its numbers, as the seeds walk through "i am not happy" (type it for a word-level model).
**,** and **.** move the step; **]** and **[** switch between the two tabs.
"""


CLASSIFY = """\
**Three parts** (p or the tabs): **names → language** (many-to-one: a character RNN reads a
surname and decides from its final state), **tag every character** (many-to-many: restore the
Time Machine's capitals and punctuation from lower-case text, one tag per character) and
**bidirectional LM** (the seeds' warning: a bidirectional LSTM as a language model).

**Start** (s) trains the part shown with the side form's options, as `rnn-tui train` processes
writing run directories (runs/ or $RNN_TUI_RUNS): a names run per balance setting (none, class
weights, balanced sampling — start one, change the balance, start again, and compare their
macro-F1), or the one-way and two-way models together. **Stop** (x) stops the part's runs (c in
the Train screen's run list continues one); a run left running when you quit keeps training.
**Open** (o) ticks saved runs of the part.

**Names**: type a name for its top three languages; the scores put each run beside the
majority class and a character trigram naive Bayes on the same held-out names — accuracy and
macro-F1, since Russian alone is almost half the names. v shows the confusion matrix (rows:
the true language, columns: the guess, each row in percent; the diagonal is the recall).

**Tagging**: type lower-case text; both taggers restore it (capitals green, inserted marks
magenta). The table gives each tag's held-out F1 for both and the gain from reading ahead.

**Bidirectional LM**: the two-way model's training perplexity falls near 1 while its samples
are gibberish — it saw the answer through the backward direction.
"""


__all__ = ["CLASSIFY", "DATASET", "FORECAST", "GENERATE", "GRADIENTS", "TRAIN"]
