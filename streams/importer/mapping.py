"""Column mappings: which spreadsheet header feeds which contract field, and value names.

A mapping is YAML (see streams/importer/mappings/*.yaml, the defaults for Vietnamese
layouts). `--mapping FILE` replaces the default of its kind; it may give only the columns
and values that differ, the rest comes from the default.
"""

from __future__ import annotations

import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.i18n import _
from streams.errors import InputError

KINDS = ("roster", "payments", "access-points")

# Fields each kind needs (a missing header is a file error, not a row error) and may use.
REQUIRED = {
    "roster": ("citizen_id", "commune_code", "programme", "amount_vnd", "channel", "period"),
    "payments": ("citizen_id", "commune_code", "programme", "amount_vnd", "channel", "date"),
    "access-points": (
        "access_point_id",
        "kind",
        "operator",
        "latitude",
        "longitude",
        "commune_code",
        "date",
    ),
}
OPTIONAL = {
    "roster": ("full_name", "commune_name", "date", "note"),
    "payments": ("full_name", "commune_name", "period", "reason", "provider", "attempt", "note"),
    "access-points": ("commune_name", "note"),
}


def fold(text: str) -> str:
    """Text compared case-insensitively, Unicode NFC, spaces collapsed (headers, values)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class Mapping(BaseModel):
    """How one kind of spreadsheet maps onto the event contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    columns: dict[str, list[str]]
    date_format: str = "%d/%m/%Y"
    values: dict[str, dict[str, str]] = {}

    def locate(self, headers: list[str]) -> dict[str, int]:
        """Column index of every mapped field found among `headers`."""
        folded = [fold(h) for h in headers]
        found: dict[str, int] = {}
        for field, names in self.columns.items():
            for name in names:
                if fold(name) in folded:
                    found[field] = folded.index(fold(name))
                    break
        return found

    def header_of(self, field: str) -> str:
        """The header shown for a field in error messages (its first name)."""
        names = self.columns.get(field) or [field]
        return names[0]


def _parse(data: Any, where: str) -> Mapping:
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise InputError(
            _("mapping {where}: {field}: {reason}").format(
                where=where, field=loc, reason=first["msg"]
            )
        ) from e


def default_mapping(kind: str) -> Mapping:
    """The shipped mapping of a kind."""
    if kind not in KINDS:
        raise InputError(_("--kind must be one of {kinds}").format(kinds=", ".join(KINDS)))
    text = (
        resources.files("streams.importer")
        .joinpath("mappings", f"{kind}.yaml")
        .read_text(encoding="utf-8")
    )
    return _parse(yaml.safe_load(text), f"{kind} (default)")


def load_mapping(kind: str, path: Path | None) -> Mapping:
    """The default mapping of `kind`, overridden by the YAML file at `path` if given."""
    base = default_mapping(kind)
    if path is None:
        return base
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(
            _("cannot read the mapping {path}: {reason}").format(path=path, reason=e.strerror or e)
        ) from e
    except yaml.YAMLError as e:
        raise InputError(
            _("the mapping {path} is not valid YAML: {reason}").format(path=path, reason=e)
        ) from e
    if not isinstance(data, dict):
        raise InputError(
            _("the mapping {path} must be a YAML mapping (columns:, values:)").format(path=path)
        )
    if data.get("kind", kind) != kind:
        raise InputError(
            _("the mapping {path} is for kind {found}, not {kind}").format(
                path=path, found=repr(data["kind"]), kind=repr(kind)
            )
        )
    merged = base.model_dump()
    for key, value in data.items():
        if key == "columns" and isinstance(value, dict):
            merged[key] = {**merged[key], **value}  # a field's headers are replaced
        elif key == "values" and isinstance(value, dict):
            for field, names in value.items():  # value names are added to the defaults
                known = merged[key].get(field, {})
                merged[key][field] = {**known, **names} if isinstance(names, dict) else names
        else:
            merged[key] = value
    known = set(REQUIRED[kind]) | set(OPTIONAL[kind])
    mapping = _parse(merged, str(path))
    unknown = set(mapping.columns) - known
    if unknown:
        raise InputError(
            _("mapping {path}: unknown field(s) {fields}; {kind} knows {known}").format(
                path=path,
                fields=", ".join(sorted(unknown)),
                kind=kind,
                known=", ".join(sorted(known)),
            )
        )
    return mapping
