"""Language models: the seeds' RNN, GRU and LSTM from scratch, and nn.RNN/GRU/LSTM wrappers.

All share one batch-major interface (`base.LanguageModel`); `registry.build_model(config)` builds
any of them from a JSON-able config. Nothing is re-exported here, so importing the package stays
cheap; import the modules (they need torch).
"""
