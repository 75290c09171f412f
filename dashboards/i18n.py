"""The dashboards in each language: one set per language, translated from the English source
dashboards that `dashboards.build` generates, with stable uids.

- uids: Vietnamese (the default language) keeps the source uid (`wm-overview`), English adds
  `-en` (`wm-overview-en`); each set links only to its own language (a language tag).
- translated: dashboard and panel titles and descriptions, variable labels, annotation and
  map-layer names, and the column headers and legends (SQL column names, renamed by an
  `organize` transformation's `renameByName`, which sets the fields' display names).
- not touched: SQL, variable names, field matchers. Grafana's `byName` matcher still matches a
  renamed field by its own name (grafana/grafana packages/grafana-data/src/transformations/
  matchers/nameMatcher.ts, fieldNameMatcher: `name === field.name || name ===
  getFieldDisplayName(...)`), so field overrides keep applying.

The English text reaches the gettext catalogue through `extract`, a Babel extraction method
(babel.cfg) that reads it from the generated dashboards themselves.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import IO, Any

from dashboards import panels as p
from schemas.i18n import (
    ALERT_KINDS,
    DEFAULT_LANGUAGE,
    FAILURE_REASONS,
    FOLLOWUP_CATEGORIES,
    N_,
    PROGRAMMES,
    Lang,
)

# SQL column names as users read them (table headers, legends, stat titles).
COLUMN_LABELS = {
    "province": N_("Province"),
    "province_code": N_("Province code"),
    "province_name": N_("Province"),
    "commune": N_("Commune"),
    "commune_code": N_("Commune code"),
    "commune_name": N_("Commune"),
    "period": N_("Period"),
    "paid_cashless": N_("Paid cashless"),
    "paid": N_("Paid"),
    "due": N_("Due"),
    "cashless_rate": N_("Cashless rate"),
    "paid_twice": N_("Paid twice"),
    "paid_unknown": N_("Paid, unknown beneficiary"),
    "returned": N_("Reversed"),
    "channel": N_("Channel"),
    "payments": N_("Payments"),
    "reason": N_("Reason"),
    "failures": N_("Failures"),
    "median_days": N_("Median days"),
    "p90_days": N_("90th percentile, days"),
    "programme": N_("Programme"),
    "amount_by_channel": N_("Amount by channel (VND)"),
    "kind": N_("Kind"),
    "category": N_("Follow up for"),
    "beneficiary": N_("Beneficiary (pseudonym)"),
    "last_event_at": N_("Last event"),
    "alerts": N_("Alerts"),
    "value": N_("Value"),
    "message": N_("Message"),
    "raised_at": N_("Raised"),
    "beneficiaries_due": N_("Beneficiaries due"),
    "beneficiaries_paid_cashless": N_("Beneficiaries paid cashless"),
    "atms": N_("ATMs"),
    "bank_branches": N_("Bank branches"),
    "post_offices": N_("Post offices"),
    "mobile_money_agents": N_("Mobile-money agents"),
    "access_points_per_10k": N_("Access points per 10,000 beneficiaries"),
    "atms_per_10k": N_("ATMs per 10,000 beneficiaries"),
    "nearest_atm_km": N_("Nearest ATM (km)"),
    "gap_score": N_("Gap score"),
    "beneficiaries_per_atm": N_("Beneficiaries per ATM"),
    "events_per_s": N_("Events per second"),
    "lag": N_("Consumer lag (events)"),
    "error_class": N_("Error class"),
    "events": N_("Events"),
    "freshness_s": N_("Freshness (s)"),
    "latest_event_at": N_("Latest event time"),
    "last_health_row": N_("Last health row"),
}
# Codes in table cells as users read them: a value mapping per column (Grafana's `mappings`
# field property, type "value", set by a `byName` override), in every language.
VALUE_LABELS: dict[str, Mapping[str, str]] = {
    "category": FOLLOWUP_CATEGORIES,
    "kind": ALERT_KINDS,
    "reason": FAILURE_REASONS,
    "programme": PROGRAMMES,
}
# Panels whose fields may be renamed: not maps (they locate points by field name), not stats
# that pick their field by a name pattern.
RENAMED_TYPES = frozenset({"table", "barchart", "piechart", "timeseries", "bargauge", "stat"})
_COLUMNS = {q.sql: q.columns for q in p.PANELS}


def uid_for(uid: str, language: str) -> str:
    """The stable uid of a dashboard in `language`."""
    return uid if language == DEFAULT_LANGUAGE else f"{uid}-{language}"


def _renames(panel: Mapping[str, Any]) -> dict[str, str]:
    if panel.get("type") not in RENAMED_TYPES:
        return {}
    if panel.get("options", {}).get("reduceOptions", {}).get("fields"):
        return {}
    columns: list[str] = []
    for target in panel.get("targets", []):
        columns += _COLUMNS.get(target.get("rawSql", ""), ())
    return {c: COLUMN_LABELS[c] for c in columns if c in COLUMN_LABELS}


def _mapped(panel: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    """The columns of a table panel whose codes get a value mapping."""
    if panel.get("type") != "table":
        return {}
    columns: list[str] = []
    for target in panel.get("targets", []):
        columns += _COLUMNS.get(target.get("rawSql", ""), ())
    return {c: VALUE_LABELS[c] for c in columns if c in VALUE_LABELS}


def _value_mapping(column: str, labels: Mapping[str, str], t: Any) -> dict[str, Any]:
    options = {
        code: {"text": t(label), "index": i} for i, (code, label) in enumerate(labels.items())
    }
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": "mappings", "value": [{"type": "value", "options": options}]}],
    }


def texts(board: Mapping[str, Any]) -> Iterator[str]:
    """Every English text of a source dashboard that `translate` translates."""
    yield from (board["title"], board.get("description", ""))
    yield from (link["title"] for link in board.get("links", []))
    yield from (v["label"] for v in board["templating"]["list"] if v.get("label"))
    yield from (a["name"] for a in board["annotations"]["list"])
    for panel in board["panels"]:
        yield from (panel.get("title", ""), panel.get("description", ""))
        yield from (layer["name"] for layer in panel.get("options", {}).get("layers", []))
        yield from _renames(panel).values()
        for labels in _mapped(panel).values():
            yield from labels.values()


def translate(board: Mapping[str, Any], language: str) -> dict[str, Any]:
    """`board` in `language`, with its uid and its links to the dashboards of that language."""
    lang = Lang(language)

    def t(text: str) -> str:
        return lang.gettext(text) if text else text

    out = copy.deepcopy(dict(board))
    out["uid"] = uid_for(out["uid"], language)
    out["title"], out["description"] = t(out["title"]), t(out.get("description", ""))
    out["tags"] = [*out["tags"], language]
    for link in out.get("links", []):
        link["title"] = t(link["title"])
        if link.get("tags"):
            link["tags"] = [*link["tags"], language]
    for variable in out["templating"]["list"]:
        if variable.get("label"):
            variable["label"] = t(variable["label"])
    for annotation in out["annotations"]["list"]:
        annotation["name"] = t(annotation["name"])
    for panel in out["panels"]:
        renames = _renames(panel)
        mapped = _mapped(panel)
        if mapped:
            field_config = panel.setdefault("fieldConfig", {"defaults": {}, "overrides": []})
            field_config["overrides"] = [
                *field_config.get("overrides", []),
                *(_value_mapping(c, labels, t) for c, labels in mapped.items()),
            ]
        panel["title"], panel["description"] = t(panel["title"]), t(panel.get("description", ""))
        for layer in panel.get("options", {}).get("layers", []):
            layer["name"] = t(layer["name"])
        if renames:
            panel["transformations"] = [
                *panel.get("transformations", []),
                {
                    "id": "organize",
                    "options": {
                        "renameByName": {column: t(label) for column, label in renames.items()}
                    },
                },
            ]
    return out


def extract(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:
    """Babel extraction method for dashboards/build.py (babel.cfg): its marked text, then
    the text of the dashboards it generates."""
    from babel.messages.extract import extract_python

    from dashboards.build import source_boards

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for board in source_boards().values():
        for text in texts(board):
            if text:
                yield 0, "", text, []
