"""Ingest in helper processes gives exactly what ingest in the worker gives."""

from __future__ import annotations

from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.ingest_pool import _split


def test_split_keeps_order_and_balances_bytes() -> None:
    values: list[bytes | None] = [b"a" * 10, b"b" * 10, None, b"c" * 30, b"d" * 5]
    chunks = _split(values, 2)
    assert [v for chunk in chunks for v in chunk] == values
    assert len(chunks) == 2
    assert _split(values, 1) == [values]
    assert _split([b"x"], 4) == [[b"x"]]


def test_the_pseudonymizer_travels_as_its_key() -> None:
    import pickle

    original = Pseudonymizer(b"k" * 32)
    assert pickle.loads(pickle.dumps(original))("012345678901") == original("012345678901")
