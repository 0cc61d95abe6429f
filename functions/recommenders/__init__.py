"""Recommenders sharing one face — ``fit`` / ``recommend`` / ``similar_items`` — so the API and the
evaluation harness run the same code.

Each recommender ranks from *item signals* (popularity, co-occurrence, vector neighbours). The
signals come from memory, fitted on a dataset (``memory.MemorySignals``, for evaluation), or from
PostgreSQL live (``store.signals.PostgresSignals``, for the API: an event changes the next answer).
"""
