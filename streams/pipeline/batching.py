"""Batches bounded by bytes: the stream class lives in `streams.faust_ext.batching` (it
reaches into Faust's Stream internals); this name stays importable."""

from streams.faust_ext.batching import BatchingStream

__all__ = ["BatchingStream"]
