"""`dashboards build|push`, `export coverage` and `bench`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas import i18n
from schemas.i18n import _
from streams.cli.common import ProgressObserver, _data_dir_settings, _progress, err, out
from streams.errors import InputError
from streams.settings import Settings

# --- dashboards / export --------------------------------------------------------------------


def cmd_dashboards_build(args: argparse.Namespace) -> int:
    from dashboards.build import JSON_DIR, stale, write_all

    if args.check:
        outdated = stale()
        if outdated:
            err.print(
                _(
                    "out of date: {names}; run `welfare-monitor dashboards build` and "
                    "commit dashboards/json"
                ).format(names=", ".join(outdated)),
                markup=False,
            )
            return 1
        out.print(_("dashboards in {path} are up to date").format(path=JSON_DIR))
        return 0
    for path in write_all():
        out.print(_("wrote {path}").format(path=path))
    return 0


def cmd_dashboards_push(args: argparse.Namespace) -> int:
    from dashboards.errors import DashboardError
    from dashboards.push import DataSourceConfig, push

    settings = Settings()
    url = args.url or settings.grafana_url
    token = args.token or (
        settings.grafana_token.get_secret_value() if settings.grafana_token else None
    )
    if not token:
        raise DashboardError(
            _(
                "dashboards push needs a Grafana service-account token: "
                "--token TOKEN or GRAFANA_TOKEN"
            )
        )
    password = settings.grafana_clickhouse_password
    source = (
        None
        if args.datasource_uid
        else DataSourceConfig(
            host=settings.grafana_clickhouse_host,
            port=settings.grafana_clickhouse_port,
            database=settings.clickhouse_database,
            user=settings.grafana_clickhouse_user,
            password=password.get_secret_value() if password else None,
        )
    )
    report = push(url, token, source, datasource_uid=args.datasource_uid)
    out.print(
        _(
            "Grafana {url}: folders {folder}, data source {datasource} ({uid}), dashboards "
            "{dashboards}"
        ).format(
            url=url,
            folder=report.folder,
            datasource=report.datasource,
            uid=report.datasource_uid,
            dashboards=", ".join(report.dashboards),
        ),
        markup=False,
    )
    return 0


def cmd_export_coverage(args: argparse.Namespace) -> int:
    from streams.storage import open_store
    from streams.web.export import coverage_rows, to_csv, to_geojson

    settings = _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()
    store = open_store(settings)
    try:
        rows = coverage_rows(store, args.period)
    finally:
        store.close()
    text = to_csv(rows, i18n.current()) if args.format == "csv" else to_geojson(rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        err.print(
            _("wrote {n} communes to {path}").format(n=len(rows), path=args.out), markup=False
        )
    else:
        sys.stdout.write(text)
    return 0


# --- bench ----------------------------------------------------------------------------------


def cmd_bench(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rich.table import Table

    from streams.harness.bench import run_bench
    from streams.harness.bench_report import report_markdown, update_benchmarks_file

    negative = args.history_months < 0 or args.freshness_seconds < 0
    if negative or args.growth_periods not in (0, *range(6, 121)):
        raise InputError(
            "--history-months and --freshness-seconds must be 0 or more, "
            "--growth-periods 0 or 6 to 120"
        )
    with _progress() as progress:
        result = run_bench(
            args.events,
            args.scenario,
            ProgressObserver(progress),
            lambda stage: progress.console.print(f"[dim]{stage}[/]"),
            file_events=args.file_events,
            history_months=args.history_months,
            growth_periods=args.growth_periods,
            freshness_seconds=args.freshness_seconds,
        )
    table = Table(title=f"make bench: {result.events:,} events of {result.scenario}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("pipeline, until in ClickHouse", f"{result.pipeline_events_per_s:,.0f} ev/s")
    table.add_row("raw aiokafka consumer + JSON", f"{result.raw_consume_events_per_s:,.0f} ev/s")
    table.add_row("ratio", f"{result.ratio:.3f}")
    table.add_row("worker peak RSS", f"{result.worker_peak_rss_mb:,.0f} MB")
    table.add_row(
        "dashboard query p50 / p99", f"{result.query_p50_ms:.1f} / {result.query_p99_ms:.1f} ms"
    )
    out.print(table)
    if args.out:
        update_benchmarks_file(Path(args.out), report_markdown(result, datetime.now(UTC)))
        out.print(f"wrote {args.out}")
    for line in result.summary_lines():
        out.print(line, markup=False, highlight=False)
    return 0
