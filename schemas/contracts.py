"""Event contracts: JSON Schema 2020-12 files, checked against the metaschema when loaded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from schemas import EVENTS_DIR
from schemas.errors import WelfareMonitorError
from schemas.fastpath import compile_acceptor

ENVELOPE = "envelope"
PAYMENT_FILE = "payment_file"


class ContractError(WelfareMonitorError):
    """A contract file is missing or not a valid JSON Schema."""


class EventInvalid(Exception):
    """An event breaks its contract; `error_class` names the kind of break."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason


@dataclass(frozen=True)
class Contract:
    """One loaded contract: its schema, a compiled validator and, where the schema allows,
    a fast acceptor (see `schemas.fastpath`)."""

    name: str
    version: int
    schema: dict[str, Any]
    validate: Callable[[Any], Any]
    accepts: Callable[[Any], bool] | None = None

    def check(self, data: Any) -> None:
        """Raise fastjsonschema's error when `data` breaks the contract.

        The fast acceptor only ever says yes to data the full validator accepts (a
        differential test holds it to that); anything it does not accept, the full
        validator judges, so error classes and messages come from one place.
        """
        if self.accepts is None or not self.accepts(data):
            self.validate(data)


def _load(path: Path) -> Contract:
    name, version_tag = path.name.removesuffix(".json").rsplit(".v", 1)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, SchemaError) as e:
        raise ContractError(f"{path.name} is not a valid JSON Schema 2020-12: {e}") from e
    return Contract(
        name, int(version_tag), schema, fastjsonschema.compile(schema), compile_acceptor(schema)
    )


@lru_cache(maxsize=4)
def load_contracts(directory: Path = EVENTS_DIR) -> dict[tuple[str, int], Contract]:
    """Every contract in `directory`, keyed by (name, version)."""
    contracts = {(c.name, c.version): c for c in map(_load, sorted(directory.glob("*.v*.json")))}
    for name in (ENVELOPE, PAYMENT_FILE):
        if (name, 1) not in contracts:
            raise ContractError(f"no {name}.v1.json in {directory}")
    return contracts


def check_file(message: Any, directory: Path = EVENTS_DIR) -> None:
    """Check a payment file's own fields (not its events); raise EventInvalid on a break."""
    try:
        load_contracts(directory)[(PAYMENT_FILE, 1)].check(message)
    except fastjsonschema.JsonSchemaValueException as e:
        raise EventInvalid(classify(e), e.message) from None


def validate_event(event: Any, directory: Path = EVENTS_DIR) -> dict[str, Any]:
    """Check an event's envelope, then its payload; raise EventInvalid on the first break."""
    contracts = load_contracts(directory)
    try:
        contracts[(ENVELOPE, 1)].check(event)
    except fastjsonschema.JsonSchemaValueException as e:
        raise EventInvalid(classify(e), e.message) from None
    key = (event["event_type"], event["schema_version"])
    contract = contracts.get(key)
    if contract is None:
        raise EventInvalid("unknown_event_type", f"no contract for {key[0]} v{key[1]}")
    try:
        contract.check(event["payload"])
    except fastjsonschema.JsonSchemaValueException as e:
        raise EventInvalid(classify(e), e.message.replace("data", "payload", 1)) from None
    return event


_FIELD_CLASSES = {
    "citizen_id": "invalid_cccd",
    "channel": "unknown_channel",
    "planned_channel": "unknown_channel",
    "amount_vnd": "non_positive_amount",
    "event_type": "unknown_event_type",
    "occurred_at": "invalid_timestamp",
    "schema_version": "unsupported_version",
    "event_id": "invalid_event_id",
}


def classify(error: fastjsonschema.JsonSchemaValueException) -> str:
    """The error class of a schema violation: by rule for structure, by field for values."""
    rule = error.rule or ""
    if rule == "required":
        return "missing_field"
    if rule == "type":
        return "wrong_type"
    if rule == "additionalProperties":
        return "unknown_field"
    path = error.path or []
    field = str(path[-1]) if len(path) > 1 else ""
    return _FIELD_CLASSES.get(field, f"invalid_{field or 'event'}")
