"""Names no other test uses, for topics, databases and stores."""

from __future__ import annotations

import uuid


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
