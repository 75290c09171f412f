"""The live page (served by the worker) and the static report: one self-contained HTML file.

Rendered on the server, in the reader's language: the headline, tables and inline SVG charts
are in the markup, so the report reads the same in a mail client that runs no script. No CDN,
no framework. The inline script only sorts tables; live, it also fetches the next rendering
from `/fragment` every second.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from schemas.i18n import (
    ALERT_KINDS,
    CHANNELS,
    FAILURE_REASONS,
    LANGUAGE_NAMES,
    LANGUAGES,
    PROGRAMMES,
    Lang,
)
from schemas.read_model import cashless_rate
from streams.web.html_parts import Column, bars, esc, point_map, table

ASSETS = files("streams.web") / "assets"


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _section(title: str, body: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<section{cls}><h2>{esc(title)}</h2>{body}</section>"


def _switch(lang: Lang, query: Mapping[str, str]) -> str:
    links = []
    for code in LANGUAGES:
        if code == lang.code:
            links.append(f'<b lang="{code}">{esc(LANGUAGE_NAMES[code])}</b>')
        else:
            href = "?" + urlencode({**query, "lang": code})
            links.append(
                f'<a lang="{code}" id="lang-{code}" href="{esc(href)}">'
                f"{esc(LANGUAGE_NAMES[code])}</a>"
            )
    return '<nav class="langs">' + " · ".join(links) + "</nav>"


def _header(s: dict[str, Any], lang: Lang, live: bool, query: Mapping[str, str] | None) -> str:
    _ = lang.gettext
    fresh = (s["panels"].get("freshness") or [{}])[0]
    mode = _("live, refreshed every second") if live else _("static report")
    title = _("Cashless welfare payments")
    scope = s.get("scope")
    if scope:
        title += f": {scope['title']}"
    labels = (_("Period"), _("generated"), _("data up to"))
    values = (
        f'<b id="period">{esc(lang.period(s.get("period")))}</b>',
        f'<span id="generated">{esc(lang.moment(s.get("generated_at")))}</span>',
        f'<span id="freshness">{esc(lang.moment(fresh.get("latest_event_at")))}</span>',
    )
    facts = [f"{esc(label)} {value}" for label, value in zip(labels, values, strict=True)]
    facts.append(f'<span id="mode">{esc(mode)}</span>')
    switch = _switch(lang, query) if query is not None else ""
    return (
        f"<header>{switch}<h1>welfare-monitor · {esc(title)}</h1>"
        f"<p>{' · '.join(facts)}</p></header>"
    )


def _headline(s: dict[str, Any], lang: Lang) -> str:
    _ = lang.gettext
    P = s["panels"]
    row = s.get("scope") or (P.get("nation_stat") or [{}])[0]
    counts = lang.counts(row.get("paid_cashless"), row.get("due"), row.get("cashless_rate"))
    sub = _("beneficiaries paid cashless / beneficiaries due")
    body = (
        f'<div><span class="headline" id="headline">{esc(counts)}</span></div>'
        f'<div class="sub">{esc(sub)}</div>'
    )
    provinces = [
        f'<div class="province"><b>{esc(r.get("province"))}</b>: <span id="headline-'
        f'{esc(r.get("province_code"))}">'
        f"{esc(lang.counts(r.get('paid_cashless'), r.get('due'), r.get('cashless_rate')))}"
        "</span></div>"
        for r in P.get("province_stats") or []
    ]
    return _section(_("Paid cashless / due"), body + "".join(provinces))


def _communes(s: dict[str, Any], lang: Lang) -> str:
    _ = lang.gettext
    columns = [
        Column("commune", _("Commune")),
        Column("province", _("Province")),
        Column("commune_code", _("Code")),
        Column("due", _("Due"), lang.number, True),
        Column("paid", _("Paid"), lang.number, True),
        Column("paid_cashless", _("Cashless"), lang.number, True),
        Column("cashless_rate", _("Rate"), lang.percent, True),
    ]
    rows = s["panels"].get("commune_table") or []
    return _section(
        _("Communes (click a column to sort)"),
        '<div class="scroll">' + table("communes", rows, columns, _("no data yet")) + "</div>",
        "wide",
    )


def _coverage(s: dict[str, Any], lang: Lang) -> str:
    _ = lang.gettext
    columns = [
        Column("commune_name", _("Commune")),
        Column("province_name", _("Province")),
        Column("beneficiaries_due", _("Due"), lang.number, True),
        Column("cashless_rate", _("Rate"), lang.percent, True),
        Column(
            "access_points_per_10k", _("Access points / 10,000"), lambda v: lang.number(v, 1), True
        ),
        Column(
            "nearest_atm_km",
            _("Nearest ATM (km)"),
            lambda v: _("none") if v is None else lang.number(v, 1),
            True,
        ),
        Column("gap_score", _("Gap score"), lang.number, True),
    ]
    rows = (s["panels"].get("coverage_gaps") or [])[:50]
    return _section(
        _("Coverage gaps, ranked (for banks)"),
        '<div class="scroll">' + table("coverage", rows, columns, _("no data yet")) + "</div>",
        "wide",
    )


def _charts(s: dict[str, Any], lang: Lang) -> list[str]:
    _ = lang.gettext
    P = s["panels"]
    trend = [
        (
            lang.period(r["period"]),
            float(r.get("cashless_rate") or 0),
            lang.percent(r.get("cashless_rate")),
        )
        for r in P.get("trend") or []
    ]
    channels = [
        (
            lang.label(CHANNELS, r.get("channel")),
            float(r.get("payments") or 0),
            lang.number(r.get("payments")),
        )
        for r in P.get("channel_mix") or []
    ]
    return [
        _section(_("Cashless rate by period"), bars(trend, _("no data yet"))),
        _section(_("Channel mix (standing payments)"), bars(channels, _("no data yet"), "bar2")),
    ]


def _health(s: dict[str, Any], lang: Lang) -> str:
    _ = lang.gettext
    P = s["panels"]
    h = (P.get("freshness") or [{}])[0]
    rate = ((P.get("events_per_s") or [{}])[-1]).get("events_per_s")
    rows = [
        (_("events processed (last hour)"), lang.number(h.get("events")), "health-events"),
        (_("events/s (latest)"), lang.number(round(rate or 0)), "health-rate"),
        (_("dead letters"), lang.number(h.get("dead_letters")), "health-dead"),
        (_("latest event time"), lang.moment(h.get("latest_event_at")), "health-latest"),
        (_("last health row"), lang.moment(h.get("last_health_row")), "health-row"),
    ]
    body = "".join(f'<tr><td>{esc(k)}</td><td id="{i}">{esc(v)}</td></tr>' for k, v, i in rows)
    dead = [
        (str(r.get("error_class")), float(r.get("events") or 0), lang.number(r.get("events")))
        for r in P.get("dead_letters") or []
    ]
    return _section(
        _("Pipeline health"),
        f"<table><tbody>{body}</tbody></table>" + bars(dead, _("no dead letters"), "bar2"),
    )


def _map(s: dict[str, Any], lang: Lang) -> str:
    _ = lang.gettext
    P = s["panels"]
    gap = _("gap")
    return _section(
        _("Communes and access points"),
        point_map(
            P.get("commune_map") or [],
            P.get("access_point_map") or [],
            lambda r: (
                f"{r.get('commune_name') or ''}: {gap} "
                f"{lang.number(round(float(r.get('gap_score') or 0)))}"
            ),
            _(
                "circles: communes sized by coverage gap · squares: access points "
                "(synthetic coordinates)"
            ),
            _("no data yet"),
        ),
    )


def _drill(s: dict[str, Any], lang: Lang) -> list[str]:
    _ = lang.gettext
    P = s["panels"]
    if "commune_stat" not in P:
        return []
    stat = (P.get("commune_stat") or [{}])[0]
    facts = [
        (_("paid"), lang.number(stat.get("paid"))),
        (_("paid twice"), lang.number(stat.get("paid_twice"))),
        (_("reversed payments"), lang.number(stat.get("returned"))),
    ]
    ttp = (P.get("commune_time_to_pay") or [{}])[0]
    facts += [
        (_("median days from scheduled to paid"), lang.number(ttp.get("median_days"), 1)),
        (_("90th percentile, days"), lang.number(ttp.get("p90_days"), 1)),
    ]
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in facts)
    failures = [
        (
            lang.label(FAILURE_REASONS, r.get("reason")),
            float(r.get("failures") or 0),
            lang.number(r.get("failures")),
        )
        for r in P.get("commune_failures") or []
    ]
    alerts = table(
        "alerts",
        P.get("commune_alerts") or [],
        [
            Column("kind", _("Alert"), lambda v: lang.label(ALERT_KINDS, v)),
            Column("period", _("Period"), lang.period),
            Column("message", _("Message")),
            Column("raised_at", _("Raised"), lang.moment),
        ],
        _("no active alerts"),
    )
    groups = {
        "unpaid": _("not paid yet"),
        "failed": _("payment failed"),
        "paid_twice": _("paid twice"),
    }
    followup = table(
        "followup",
        s.get("followup") or [],
        [
            Column("group", _("Follow up"), lambda v: groups.get(v, v)),
            Column("beneficiary", _("Beneficiary (pseudonym)")),
            Column("programme", _("Programme"), lambda v: lang.label(PROGRAMMES, v)),
            Column(
                "reason",
                _("Last failure reason"),
                lambda v: lang.label(FAILURE_REASONS, v) if v else "",
            ),
            Column("last_event_at", _("Last event (UTC)")),
        ],
        _("nobody to follow up"),
    )
    return [
        _section(_("The commune"), f"<table><tbody>{body}</tbody></table>"),
        _section(_("Failed attempts by reason"), bars(failures, _("none"), "bar2")),
        _section(_("Alerts"), alerts, "wide"),
        _section(_("Who to follow up"), followup, "wide"),
    ]


def _exact_rates(s: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with each rate recomputed from its counts: the SQL rounds rates to six
    digits, and rounding that again for display can be off by one in the last digit shown
    (28 / 318 = 8.805..% would show as 8.80%)."""
    panels: dict[str, Any] = {}
    for key, rows in (s.get("panels") or {}).items():
        fixed = []
        for row in rows:
            for num, den in (
                ("paid_cashless", "due"),
                ("beneficiaries_paid_cashless", "beneficiaries_due"),
            ):
                if row.get(num) is not None and row.get(den) is not None:
                    row = {**row, "cashless_rate": cashless_rate(row[num], row[den])}
            fixed.append(row)
        panels[key] = fixed
    scope = s.get("scope")
    if scope and scope.get("due") is not None:
        scope = {**scope, "cashless_rate": cashless_rate(scope["paid_cashless"], scope["due"])}
    return {**s, "panels": panels, "scope": scope}


def render_content(
    snapshot: dict[str, Any] | None,
    lang: Lang,
    *,
    live: bool,
    query: Mapping[str, str] | None = None,
) -> str:
    """The page's content (header and sections), also what `/fragment` returns live.
    `query` holds the page's parameters, for the language switch (none in a report)."""
    s = _exact_rates(snapshot or {"period": "", "generated_at": "", "panels": {}})
    national = not s.get("scope")
    sections = [_headline(s, lang)]
    if national:
        sections += _charts(s, lang)
    sections += _drill(s, lang)
    sections += [_health(s, lang), _communes(s, lang), _coverage(s, lang), _map(s, lang)]
    return _header(s, lang, live, query) + "<main>" + "".join(sections) + "</main>"


def render_page(
    snapshot: dict[str, Any] | None,
    *,
    live: bool,
    lang: Lang | None = None,
    query: Mapping[str, str] | None = None,
) -> str:
    """The whole page: live (refreshes itself from the worker) or a static report."""
    lang = lang or Lang()
    script = _asset("live.js") + (_asset("poll.js") + "setTimeout(poll, 1000);" if live else "")
    return (
        f'<!doctype html><html lang="{lang.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>welfare-monitor</title><style>{_asset('live.css')}</style></head><body>"
        f'<div id="page">{render_content(snapshot, lang, live=live, query=query)}</div>'
        f"<script>{script}</script></body></html>\n"
    )
