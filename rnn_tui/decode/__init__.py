"""Decoding: text from a trained model (the seeds' prediction with warm-up, sampling).

Nothing is re-exported here, so importing the package stays cheap: `rnn_tui.decode.options`
(the generation options and their checks) needs no torch, `rnn_tui.decode.generate` does.
"""
