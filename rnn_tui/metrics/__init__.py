"""Metrics: perplexity (language models) and BLEU (translation), the seeds' formulas.

No torch here: the trainers, the decoders and the UI all score with the same functions.
"""
