"""Tables whose changelog writes a batch can wait for, before its offsets are acknowledged.

Faust commits source offsets after `producer.flush()`, but the flush of its send buffer
gives up after 0.1 s without progress (faust/transport/producer.py, `flush_atmost`), so
under load offsets can be committed while the changelog records of the same events are
still waiting to be sent. A kill -9 then loses state for events that are never read again
(the kill test caught 19,000 of 31,500 beneficiaries missing). These tables keep the
future of every changelog write; the agent awaits them before its batch is acknowledged.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.types import FutureMessage


class ChangelogReceipts:
    """Mixin: remembers changelog writes until `take_receipts` hands them over."""

    _receipts: list[FutureMessage]

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        """Faust's send_changelog, keeping the future of the write."""
        future: FutureMessage = super().send_changelog(*args, **kwargs)  # type: ignore[misc]
        if not hasattr(self, "_receipts"):
            self._receipts = []
        self._receipts.append(future)
        return future

    def take_receipts(self) -> list[FutureMessage]:
        """The futures of the changelog writes since the last call (the caller awaits them)."""
        pending = getattr(self, "_receipts", [])
        self._receipts = []
        return pending


class DurableTable(ChangelogReceipts, faust.Table):
    """faust.Table with awaitable changelog writes."""


class DurableGlobalTable(ChangelogReceipts, faust.GlobalTable):
    """faust.GlobalTable with awaitable changelog writes."""
