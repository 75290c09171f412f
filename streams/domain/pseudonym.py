"""Keyed pseudonyms for citizen IDs: HMAC-SHA256, truncated to 128 bits, hex."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import SecretStr


class Pseudonymizer:
    """Turns a citizen ID into a stable pseudonym that cannot be reversed without the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must have at least 16 bytes")
        self._key = key
        # HMAC's keyed inner and outer state, computed once; copying it is cheaper than
        # keying a new HMAC per citizen ID.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    @staticmethod
    def ephemeral_key_secret() -> SecretStr:
        """A fresh random key, hex-encoded, for an embedded run's worker."""
        return SecretStr(secrets.token_hex(32))

    def __call__(self, citizen_id: str) -> str:
        mac = self._keyed.copy()
        mac.update(citizen_id.encode())
        return mac.hexdigest()[:32]

    def digest(self, content: bytes) -> str:
        """Keyed digest of arbitrary bytes (e.g. a message holding a citizen ID)."""
        return hmac.new(self._key, b"content:" + content, hashlib.sha256).hexdigest()[:32]

    def __reduce__(self) -> tuple[type[Pseudonymizer], tuple[bytes]]:
        # Pickled only to hand the key to ingest helpers through their pipe.
        return (Pseudonymizer, (self._key,))

    def __repr__(self) -> str:
        return "Pseudonymizer(key=<hidden>)"
