"""What each screen's explain panel teaches: the d2l concept and the seeds' formulas.

One `Explanation` per screen, declared by the screen as `EXPLAIN = explanations.NAME`; names
follow d2l (0.17 / d2l-zh, the chapters the seeds follow). Kept short: a lesson's talking
points, not the chapter.
"""

from __future__ import annotations

from rnn_tui.tui.widgets.explain import Explanation

DATASET = Explanation(
    title="Text preprocessing and language models (d2l §8.2–8.3, §9.5)",
    concept=(
        "Text is cleaned and split into tokens (words or characters). The Vocab maps each token "
        "to an index in order of falling frequency; index 0 is <unk>, for unknown tokens and "
        "those seen fewer than min_freq times. A language model estimates "
        "P(x_1, …, x_T) = Π P(x_t | x_1, …, x_{t−1}); counting n-grams, with Laplace smoothing "
        "for unseen ones, is the simplest. Word frequencies follow Zipf's law — a straight "
        "line on log–log axes, for bigrams and trigrams too — so most n-grams are rare and "
        "counting cannot model language well. For training, the corpus is cut into "
        "subsequences of num_steps tokens, labels shifted by one: random sampling (random "
        "subsequences, no state carried between minibatches) or sequential partitioning "
        "(minibatch i + 1 continues minibatch i row by row). Translation pairs (d2l §9.5): "
        "preprocess_nmt lower-cases, makes no-break spaces plain and puts a space before "
        ", . ! ?; each language has its own Vocab (min_freq 2, with <pad> <bos> <eos>); a "
        "sentence becomes its ids and <eos>, cut or padded with <pad> to num_steps."
    ),
    formulas=(
        ("Zipf's law", "log n_i = −α log i + c"),
        ("unigram", "P(x′) = (n(x′) + ε₁/m) / (n + ε₁)"),
        ("bigram", "P(x′ | x) = (n(x, x′) + ε₂ P(x′)) / (n(x) + ε₂)"),
        ("perplexity", "exp(−1/n Σ_t log P(x_t | x_{t−1}, …, x_1))"),
        ("minibatch", "rows of num_steps tokens; labels Y = X shifted by one"),
        (
            "truncate_pad",
            "ids + <eos>, first num_steps kept or <pad> added; valid length = non-<pad>",
        ),
    ),
    note=(
        "n_i: count of the i-th most frequent word. The n-gram estimates are Laplace-smoothed "
        "(d2l puts a hat on them): n tokens, m distinct ones; as ε → 0 they approach the raw "
        "counts' ratios; trigrams and up follow the bigram's pattern. Perplexity 1 is a "
        "perfect model; a uniform guess over the vocabulary scores its size."
    ),
)

TRAIN = Explanation(
    title="Training a recurrent network (d2l §8.4–8.7, §9.7)",
    concept=(
        "The hidden state H_t summarises the sequence so far; the same weights serve every "
        "time step (φ is tanh; GRU and LSTM add gates). The loss is the cross-entropy of each "
        "next token, shown as perplexity. Backpropagation through time multiplies by one "
        "Jacobian per step (W_hhᵀ for a linear RNN), so gradients can vanish or explode. "
        "Against explosion a norm above θ is scaled down to θ before each update; clipping "
        "does nothing for vanishing gradients, which the GRU's and LSTM's gates address. With "
        "sequential partitioning the state carries over between minibatches but is detached, "
        "which truncates BPTT at the subsequence's start (at most num_steps back). A seq2seq run "
        "trains the decoder with teacher forcing — it reads <bos> and the reference, not its "
        "own predictions — and masks <pad> tokens out of the loss."
    ),
    formulas=(
        ("hidden state", "H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)"),
        ("output", "O_t = H_t W_hq + b_q"),
        ("cross-entropy", "ℓ = −1/n Σ_t log P(x_t | x_{t−1}, …, x_1)"),
        ("perplexity", "exp(ℓ)"),
        ("clipping", "g ← min(1, θ / ‖g‖) g"),
        ("truncated BPTT", "∂ℓ_t/∂W_hh sums over t's own subsequence only (≤ num_steps steps)"),
        ("masked loss", "ℓ = −Σ_t′ m_t′ log P(y_t′ | y_<t′, c) / Σ_t′ m_t′,  m_t′ = 0 on <pad>"),
        ("teacher forcing", "decoder input = <bos>, y_1, …, y_{T′−1}   (labels y_1 … y_T′)"),
    ),
    note=(
        "Perplexity 1 is perfect; the vocabulary size is uniform guessing. The masked loss is "
        "the mean over real tokens; d2l's MaskedSoftmaxCELoss averages each row over num_steps, "
        "<pad> included, and train_seq2seq divides by the real tokens again, so the book prints "
        "a loss num_steps times smaller than this mean (d2l issue #2076). A seq2seq run's "
        "held-out BLEU is corpus sacreBLEU (4-grams, 0–100), not the seeds' k = 2 BLEU."
    ),
)

GENERATE = Explanation(
    title="Prediction with warm-up (d2l §8.5, predict_ch8)",
    concept=(
        "The model starts from a zero state and reads the prefix without predicting (warm-up), "
        "so the hidden state summarises it. Then it predicts the next token, feeds it back as "
        "the next input, and repeats for length tokens. Greedy decoding takes the most "
        "probable token every time — the same prefix always gives the same text. Sampling "
        "draws from the softmax of the outputs divided by a temperature T: below 1 sharpens "
        "the distribution (towards greedy), above 1 flattens it. Top-k draws among the k most "
        "probable tokens only (0: all of them). predict_ch8 in the seeds is greedy; sampling, "
        "temperature and top-k are the usual extensions."
    ),
    formulas=(
        ("warm-up", "H_t = f(x_t, H_{t−1})  for the prefix tokens x_1 … x_p"),
        ("softmax", "softmax(o)_i = exp(o_i) / Σ_j exp(o_j)"),
        ("greedy", "x_{t+1} = argmax softmax(o_t)"),
        ("sampling", "x_{t+1} ~ softmax(o_t / T)"),
        ("top-k", "x_{t+1} ~ softmax(o_t / T) over the k largest o_t,i"),
    ),
    note="The side panel shows softmax(o_t) itself, before temperature and top-k.",
)

TRANSLATE = Explanation(
    title="Sequence to sequence, attention, search and BLEU (d2l §9.6–9.8, §10.4)",
    concept=(
        "The encoder reads the English tokens and <eos>; its final hidden state is the "
        "context c. The decoder starts from that state and <bos>, reads c at every step, and "
        "writes French until <eos> or the maximum length. One fixed c must hold the whole "
        "sentence; with attention (Bahdanau) each step builds its own context from every "
        "encoder output, weighted by how well it matches the decoder's state — the heatmap "
        "shows those weights. Greedy search takes the most "
        "probable token at each step, which need not give the most probable sequence; beam "
        "search keeps the k most probable prefixes and ranks the finished candidates by a "
        "length-normalised score (α = 0.75 in the seeds; α = 0 favours short output). BLEU "
        "matches a translation's n-grams against a reference, with a penalty for being short."
    ),
    formulas=(
        ("encoder", "h_t = f(x_t, h_{t−1}),   c = h_T"),
        ("decoder", "s_t′ = g(y_{t′−1}, c, s_{t′−1})"),
        ("next token", "P(y_t′ | y_1, …, y_{t′−1}, c) = softmax(dense(s_t′))"),
        ("beam score", "(1/L^α) Σ_{t′=1..L} log P(y_t′ | y_1, …, y_{t′−1}, c)"),
        ("BLEU", "exp(min(0, 1 − len_label/len_pred)) Π_{n=1..N} p_n^(1/2ⁿ)"),
        ("attention", "c_t′ = Σ_i softmax_i(a(s_{t′−1}, h_i)) h_i"),
        ("  additive", "a(q, k) = wᵥᵀ tanh(W_q q + W_k k)   (--attention additive)"),
        ("  dot", "a(q, k) = qᵀk / √d   (--attention dot)"),
    ),
    note=(
        "L: length with <eos>; p_n: n-gram precision; N = 2 here (the table's BLEU, 0–1); beam "
        "size 1 is greedy. The checkpoint line's BLEU, the corpus BLEU on the status line and "
        "the Train screen's held-out BLEU are sacreBLEU (4-grams, 0–100): not comparable."
    ),
)

FORECAST = Explanation(
    title="Sequence models: autoregressive forecasting (d2l §8.1)",
    concept=(
        "An autoregressive (AR) model predicts x_t from the τ values before it: an MLP on the "
        "window (x_{t−τ}, …, x_{t−1}), the seeds' 4 → 10 → 1 with a squared loss. A latent "
        "autoregressive model keeps a hidden state h_t that summarises everything seen so far "
        "and predicts from it (here an RNN, GRU or LSTM). One-step-ahead predictions always "
        "read observed values and look good. A k-step-ahead prediction must feed its own "
        "predictions back in for the last min(k − 1, τ) inputs of its window: each error "
        "becomes part of the next "
        "input, so errors accumulate and the k-step error grows with k — fed only on itself "
        "after the training part (t = 604 for the seeds' sine: its 600 training pairs after "
        "the first τ = 4 points; the multi-step plot names the run's), the forecast soon "
        "flattens to a constant. The naive baselines (the "
        "last value; the value one season ago) are what a model has to beat on real series."
    ),
    formulas=(
        ("AR model", "x_t ~ P(x_t | x_{t−1}, …, x_{t−τ})"),
        ("latent model", "h_t = g(h_{t−1}, x_{t−1}),   x̂_t = P(x_t | h_t)"),
        ("squared loss", "ℓ = 1/n Σ_t (x̂_t − x_t)²"),
        ("k-step ahead", "x̂_{t+k} = f(x̂_{t+k−1}, …, x̂_{t+k−τ})   (x̂_s = x_s for s ≤ t)"),
        ("naive", "x̂_{t+k} = x_t      seasonal naive: x̂_{t+k} = x_{t+k−m·⌈k/m⌉}"),
        ("errors", "RMSE = √(1/n Σ (x̂ − x)²),   MAPE = 100/n Σ |x̂ − x| / |x|"),
    ),
    note=(
        "The first τ points lack τ predecessors: drop them (d2l) or pad with zeros. Scaling, "
        "log and differencing are fitted on the training part only; forecasts are shown in the "
        "series' own units."
    ),
)

CLASSIFY = Explanation(
    title="RNN shapes: many-to-one, many-to-many, bidirectional (d2l §9.4)",
    concept=(
        "One-to-many generates (the language models). Many-to-one reads a whole sequence and "
        "decides once, from the final hidden state: a name's last character's state h_T "
        "goes through one linear layer and a softmax over the 18 languages (padding is packed "
        "away, so h_T is the state after the name's own last letter; a bidirectional model "
        "uses [→h_T ; ←h_1]). Many-to-many tags every step from the RNN's output at that step "
        "(PyTorch's output[:, t], the state h_t): here, capitalise this character? which marks "
        "follow it? A bidirectional RNN runs a second RNN backwards and concatenates both "
        "states, so each tag sees what follows — which helps tagging and is exactly wrong for "
        "a language model: there the backward state has already read the character to "
        "predict, training perplexity falls to ≈ 1 and generation, with no future, fails."
    ),
    formulas=(
        ("shapes", "X: (batch, T) ids → H: (batch, T, h·dirs);  h_T: (batch, h·dirs)"),
        ("many-to-one", "y = softmax(W h_T + b)"),
        ("many-to-many", "y_t = softmax(W h_t + b)   for every t"),
        (
            "bidirectional",
            "h_t = concat(→h_t, ←h_t),  →h_t = f→(x_t, →h_{t−1}),  ←h_t = f←(x_t, ←h_{t+1})",
        ),
        (
            "macro-F1",
            "(1/C) Σ_c 2 P_c R_c / (P_c + R_c)   (C classes true or predicted, each the same)",
        ),
        ("class weights", "ℓ = −Σ_i w_{y_i} log ŷ_{i,y_i} / Σ_i w_{y_i},  w_c = N / (C·N_c)"),
    ),
    note=(
        "Unbalanced classes: accuracy rewards always answering Russian; macro-F1 does not. The "
        "baselines are the majority class and a character trigram naive Bayes on the same split."
    ),
)

GRADIENTS = Explanation(
    title="Backpropagation through time (d2l §8.7, §9.1–9.2)",
    concept=(
        "Unrolled over T steps, a recurrent network is a deep network sharing one W_hh. The "
        "gradient of the loss at step T reaches h_t through one Jacobian ∂h_j/∂h_{j−1} per "
        "step in between, so its size is a product of T − t factors: for a linear RNN each is "
        "W_hhᵀ and the norm follows ρ(W_hh)^{T−t} — it vanishes below 1 and explodes above. "
        "Exploding gradients are clipped (the direction is kept, only the length is capped); "
        "truncated BPTT stops the sum after τ steps, dropping the older terms. The GRU's update "
        "gate adds a path H_{t−1} → H_t and the LSTM's forget gate one through its memory, "
        "C_{t−1} → C_t, each scaled by the gate, which can stay near 1 and carry the signal "
        "far back."
    ),
    formulas=(
        ("hidden state", "H_t = φ(X_t W_xh + H_{t−1} W_hh + b_h)"),
        ("BPTT", "∂L_T/∂W_hh = Σ_t (∂L_T/∂h_T) (Π_{j=t+1..T} ∂h_j/∂h_{j−1}) ∂⁺h_t/∂W_hh"),
        ("linear case", "∂L_T/∂h_t = (∂L_T/∂h_T) (W_hh^{T−t})ᵀ,   ‖·‖ ~ ρ(W_hh)^{T−t}"),
        ("clipping", "g ← min(1, θ / ‖g‖) g"),
        ("truncation", "Σ_t over the last τ steps only (h detached before them)"),
        ("GRU gates", "R_t, Z_t = σ(X_t W_x· + H_{t−1} W_h· + b_·)"),
        (
            "GRU state",
            "H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ tanh(X_t W_xh + (R_t ⊙ H_{t−1}) W_hh + b_h)",
        ),
        ("LSTM gates", "I_t, F_t, O_t = σ(X_t W_x· + H_{t−1} W_h· + b_·),  H_t = O_t ⊙ tanh(C_t)"),
        ("LSTM memory", "C_t = F_t ⊙ C_{t−1} + I_t ⊙ tanh(X_t W_xc + H_{t−1} W_hc + b_c)"),
        ("one product", "x W_xh + h W_hh = concat(x, h) · concat(W_xh, W_hh)"),
    ),
    note=(
        "ρ(W): the spectral radius, the largest |eigenvalue|; ×r/step: (‖g_1‖/‖g_T‖)^{1/(T−1)}, "
        "g_t = ∂L_T/∂h_t; θ: clipping threshold; ∂⁺: the "
        "direct dependence only (h_{t−1} held fixed); h_t: one example's state, a row of H_t. "
        "Z_t ≈ 1 (GRU) carries the state, and F_t ≈ 1 with I_t ≈ 0 (LSTM) the memory C, and "
        "their gradients, through a step unchanged. A concise gru (nn.GRU) applies R_t after "
        "the product: tanh(X_t W_xh + b_xh + R_t ⊙ (H_{t−1} W_hh + b_hh)), the update the "
        "same. An LSTM's ρ and ∂L/∂W are its memory candidate's W_hc (a GRU's, its "
        "candidate's W_hh). The Inside a model tab unrolls an LSTM's memory candidate (W_xc, "
        "W_hc) and a GRU's (a d2l GRU's product reads R_t ⊙ h_{t−1}); a stacked model's top "
        "layer, whose x_t is the h_t of the layer below."
    ),
)
