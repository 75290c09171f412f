"""Ingest in helper processes gives exactly what ingest in the worker gives (real helpers)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from streams.domain.ingest import Arrival, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.ingest_pool import IngestPool
from tests.support.scenarios import simulate, small_scenario


@pytest.mark.integration
def test_helpers_ingest_exactly_like_the_worker(binh_dinh: Any) -> None:
    generated, _ = simulate(small_scenario(binh_dinh, 200, 20))
    values: list[bytes | None] = [orjson.dumps(e) for e in generated[:3000]]
    values += [b"{not json", None, orjson.dumps({"file_id": 1})]
    pseudonymize, arrival = Pseudonymizer(b"k" * 32), Arrival.at()
    pool = IngestPool(pseudonymize, 2)
    pool.start()
    try:
        helped = asyncio.run(pool.ingest(values, arrival))
    finally:
        pool.stop()
    assert helped == [ingest_message(v, pseudonymize, arrival) for v in values]
