"""The `welfare-monitor` command line."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from schemas.contracts import ContractError
from simulators.errors import SimulatorError
from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import Scenario, load_scenario, scenario_names
from streams.alerts import AlertRules
from streams.embedded import EmbeddedPipeline, count_lines, data_directory, produce_file
from streams.errors import InputError, WelfareMonitorError
from streams.queries import Results
from streams.report import (
    alerts_summary,
    coverage_table,
    headline,
    json_lines,
    lowest_rate_table,
    nation_summary,
)
from streams.settings import Settings
from streams.verify import compare

DEFAULT_SCENARIO = "binh-dinh-2023-06"
_STAGES = {
    "simulate": "Simulating events",
    "produce": "Sending to Kafka",
    "process": "Messages processed",
}
# The worker's progress is its committed offsets: messages, each an event or a payment file.
_UNITS = {"process": "messages"}

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


class ProgressObserver:
    """Draws an embedded run's stages as rich progress bars with their rates."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def started(self, stage: str, total: int | None) -> None:
        self._tasks[stage] = self.progress.add_task(
            _STAGES.get(stage, stage), total=total, rate=""
        )

    def advanced(self, stage: str, completed: int) -> None:
        task_id = self._tasks[stage]
        task = self.progress.tasks[task_id]
        elapsed = task.elapsed or 0.0
        unit = _UNITS.get(stage, "events")
        speed = f"{completed / elapsed:,.0f} {unit}/s" if elapsed > 0.5 else ""
        self.progress.update(task_id, completed=completed, rate=speed)

    def notice(self, message: str) -> None:
        self.progress.console.print(f"[yellow]{message}[/]", highlight=False)

    def finished(self, stage: str, total: int) -> None:
        """A stage whose size was unknown ended with `total` units."""
        self.progress.update(self._tasks[stage], total=total, completed=total)


# --- simulate -------------------------------------------------------------------------------

def _simulate_to(
    scenario: Scenario,
    seed: int,
    path: Path,
    progress: Progress,
    faults: FaultSpec | None = None,
) -> PaymentCycle:
    cycle = PaymentCycle(scenario, seed)
    observer = ProgressObserver(progress)
    observer.started("simulate", None)
    lines = FaultInjector(faults or FaultSpec(), seed, cycle.truth).lines(cycle.events())
    with path.open("wb") as f:
        written = write_lines(lines, f, lambda n: observer.advanced("simulate", n))
    observer.finished("simulate", written)
    return cycle


def _faults(args: argparse.Namespace) -> FaultSpec:
    try:
        return FaultSpec(
            duplicates=args.duplicates,
            out_of_order=args.out_of_order,
            malformed=args.malformed,
            redeliver=args.redeliver,
        )
    except ValueError as e:
        raise SimulatorError(str(e)) from e


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.list:
        for name in scenario_names():
            out.print(f"{name:<24} {load_scenario(name).title}")
        return 0
    if not args.scenario:
        raise SimulatorError("simulate needs --scenario NAME (see --list)")
    scenario = load_scenario(args.scenario)
    faults = _faults(args)
    if args.out:
        with _progress() as progress:
            cycle = _simulate_to(scenario, args.seed, Path(args.out), progress, faults)
    else:
        cycle = PaymentCycle(scenario, args.seed)
        write_lines(FaultInjector(faults, args.seed, cycle.truth).lines(cycle.events()),
                    sys.stdout.buffer)
        sys.stdout.flush()
    if args.truth:
        Path(args.truth).write_bytes(
            orjson.dumps(cycle.truth.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
        )
    return 0


# --- run / demo -----------------------------------------------------------------------------

def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with the command's --file-events when given."""
    settings = Settings()
    file_events = getattr(args, "file_events", None)
    if file_events is not None:
        settings = settings.model_copy(update={"replay_file_events": file_events})
    return settings


def _run_pipeline(
    input_path: Path, data_dir: Path, progress: Progress, settings: Settings,
    serve: bool = False,
) -> Results:
    pipeline = EmbeddedPipeline(settings, ProgressObserver(progress))

    def keep_serving(settings: Settings) -> None:
        progress.console.print(
            f"[bold]All events are stored. The live page stays up at "
            f"http://{settings.web_host}:{settings.web_port}/ until Ctrl-C.[/]")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            progress.console.print("stopping")

    return pipeline.run(input_path, data_dir, on_processed=keep_serving if serve else None)


def _data_dir_settings(data_dir: Path) -> Settings:
    """Settings that read the chDB data an embedded run kept in `data_dir`."""
    chdb_path = data_dir / "chdb"
    if not chdb_path.is_dir():
        raise InputError(f"{data_dir} holds no chDB data (expected {chdb_path})")
    return Settings().model_copy(update={"clickhouse_url": None, "chdb_path": chdb_path})


def write_report(data_dir: Path, out_path: Path, period: str | None = None) -> int:
    """Write the static HTML report of an embedded run's data; returns communes shown."""
    from streams.live_data import PageParams, snapshot
    from streams.live_page import render_page
    from streams.storage import open_store

    settings = _data_dir_settings(data_dir)
    store = open_store(settings)
    try:
        data = snapshot(store, PageParams.parse({"period": period} if period else {}))
    finally:
        store.close()
    out_path.write_text(render_page(data, live=False), encoding="utf-8")
    return len(data["panels"].get("commune_table", []))


def cmd_report(args: argparse.Namespace) -> int:
    communes = write_report(Path(args.data_dir), Path(args.out), args.period)
    out.print(f"wrote {args.out} ({communes} communes)")
    return 0


RESULT_LEVELS = {
    "nation": "nation", "province": "provinces", "commune": "communes",
    "programme": "programmes", "coverage": "coverage", "alerts": "alerts",
    "dead-letters": "dead_letters",
}


def cmd_run(args: argparse.Namespace) -> int:
    input_path = Path(args.input)
    count_lines(input_path)  # fail fast, before any process starts, if it is unreadable
    with data_directory(Path(args.data_dir) if args.data_dir else None) as data_dir:
        with _progress() as progress:
            results = _run_pipeline(input_path, data_dir, progress, _settings(args))
    if args.format == "json":
        rows = getattr(results, RESULT_LEVELS[args.level])
        if rows:
            out.print(json_lines(rows), markup=False)
    else:
        _print_results(results)
    if args.truth:
        return _verify(results, _read_truth(Path(args.truth)))
    return 0


def _read_truth(path: Path) -> dict[str, Any]:
    try:
        truth: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise InputError(f"cannot read the truth file {path}: {e}") from e
    return truth


def _verify(results: Results, truth: dict[str, Any]) -> int:
    """Compare with the ground truth on stderr; 0 when every level agrees."""
    settings = Settings()
    rules = AlertRules(settings.alert_cashless_target, settings.alert_rate_drop_points,
                       settings.alert_min_beneficiaries)
    problems = compare(results, truth, rules)
    totals = truth["totals"]
    if not problems:
        out.print(
            f"Ground truth {totals['beneficiaries_paid_cashless']:,} / "
            f"{totals['beneficiaries_due']:,}: the pipeline's result matches the simulator's at "
            "every level (nation, province, commune, programme), dead letters by class, "
            "alerts and the coverage-gap ranking.", markup=False, highlight=False,
        )
        return 0
    err.print(f"The pipeline's result DIFFERS FROM the ground truth in {len(problems)} places:",
              markup=False)
    for line in problems[:20]:
        err.print(f"  {line}", markup=False, highlight=False)
    return 1


def _print_results(results: Results, labels: dict[int, str] | None = None) -> None:
    labels = labels or {}
    for row in results.provinces:
        out.print(headline(row, labels.get(row["province_code"])), markup=False)
    if results.communes:
        # Never squeeze the table below 100 columns (pipes and CI logs report 80).
        out.print(lowest_rate_table(results.communes), width=max(out.width, 100))
    for row in results.nation:
        for line in nation_summary(row):
            out.print(line, markup=False)
    if results.coverage:
        out.print(coverage_table(results.coverage), width=max(out.width, 100))
    out.print(alerts_summary(results.alerts), markup=False)
    if results.dead_letters:
        dead = ", ".join(f"{r['error_class']}: {r['events']}" for r in results.dead_letters)
        out.print(f"Dead-lettered events by class: {dead}", markup=False)


def cmd_demo(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    with tempfile.TemporaryDirectory(prefix="welfare-demo-") as tmp, data_directory(
        Path(args.data_dir) if args.data_dir else None
    ) as data_dir:
        events_path = Path(tmp) / "events.jsonl"
        err.print(f"[bold]welfare-monitor demo[/]: {scenario.title}")
        with _progress() as progress:
            cycle = _simulate_to(scenario, args.seed, events_path, progress)
            results = _run_pipeline(events_path, data_dir, progress, _settings(args),
                                    serve=args.serve)
        if args.report:
            write_report(data_dir, Path(args.report))
            err.print(f"static report: {args.report}", markup=False)
    region = scenario.region
    labels = (
        {region.province_codes[0]: region.label}
        if region.label and region.province_codes != "all" and len(region.province_codes) == 1
        else {}
    )
    _print_results(results, labels)
    if region.label:
        out.print(
            f"[dim]{region.label} is a former province: {region.mapping_note}[/]", highlight=False
        )
    return _verify(results, cycle.truth.to_json())


# --- server mode ----------------------------------------------------------------------------

def cmd_worker(args: argparse.Namespace) -> int:
    from streams.worker import run_worker

    run_worker(Settings(), apply_migrations=args.migrate)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from streams.storage import open_store
    from streams.storage.migrate import migrate

    settings = Settings()
    store = open_store(settings)
    try:
        applied = migrate(store)
    finally:
        store.close()
    target = settings.clickhouse_url or f"chDB at {settings.chdb_path}"
    out.print(f"migrated {target}: applied {', '.join(applied) or 'nothing (up to date)'}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from streams.kafka_io import ensure_topics

    settings = _settings(args)
    input_path = Path(args.input)
    total = count_lines(input_path)
    ensure_topics(
        settings.kafka_bootstrap_servers,
        {settings.events_topic: settings.topic_partitions, settings.dead_letter_topic: 1,
         settings.alerts_topic: 1},
    )
    with _progress() as progress:
        sent = produce_file(settings, input_path, total, ProgressObserver(progress), args.speed)
    out.print(f"replayed {sent.lines:,} events in {sent.messages:,} messages to "
              f"{settings.events_topic}")
    return 0


# --- dashboards / export --------------------------------------------------------------------

def cmd_dashboards_build(args: argparse.Namespace) -> int:
    from dashboards.build import JSON_DIR, stale, write_all

    if args.check:
        outdated = stale()
        if outdated:
            err.print(f"out of date: {', '.join(outdated)}; run `welfare-monitor dashboards "
                      "build` and commit dashboards/json", markup=False)
            return 1
        out.print(f"dashboards in {JSON_DIR} are up to date")
        return 0
    for path in write_all():
        out.print(f"wrote {path}")
    return 0


def cmd_dashboards_push(args: argparse.Namespace) -> int:
    from dashboards.errors import DashboardError
    from dashboards.push import DataSourceConfig, push

    settings = Settings()
    url = args.url or settings.grafana_url
    token = args.token or (settings.grafana_token.get_secret_value()
                           if settings.grafana_token else None)
    if not token:
        raise DashboardError("dashboards push needs a Grafana service-account token: "
                             "--token TOKEN or GRAFANA_TOKEN")
    password = settings.grafana_clickhouse_password
    report = push(url, token, DataSourceConfig(
        host=settings.grafana_clickhouse_host, port=settings.grafana_clickhouse_port,
        database=settings.clickhouse_database, user=settings.grafana_clickhouse_user,
        password=password.get_secret_value() if password else None,
    ))
    out.print(f"Grafana {url}: folder {report.folder}, data source {report.datasource}, "
              f"dashboards {', '.join(report.dashboards)}", markup=False)
    return 0


def cmd_export_coverage(args: argparse.Namespace) -> int:
    from streams.export import coverage_rows, to_csv, to_geojson
    from streams.storage import open_store

    settings = _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()
    store = open_store(settings)
    try:
        rows = coverage_rows(store, args.period)
    finally:
        store.close()
    text = to_csv(rows) if args.format == "csv" else to_geojson(rows)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        err.print(f"wrote {len(rows)} communes to {args.out}", markup=False)
    else:
        sys.stdout.write(text)
    return 0


# --- bench ----------------------------------------------------------------------------------

def cmd_bench(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rich.table import Table

    from streams.bench import report_markdown, run_bench, update_benchmarks_file

    with _progress() as progress:
        result = run_bench(args.events, args.scenario, ProgressObserver(progress),
                           lambda stage: progress.console.print(f"[dim]{stage}[/]"),
                           file_events=args.file_events)
    table = Table(title=f"make bench: {result.events:,} events of {result.scenario}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("pipeline, until in ClickHouse", f"{result.pipeline_events_per_s:,.0f} ev/s")
    table.add_row("raw aiokafka consumer + JSON", f"{result.raw_consume_events_per_s:,.0f} ev/s")
    table.add_row("ratio", f"{result.ratio:.3f}")
    table.add_row("worker peak RSS", f"{result.worker_peak_rss_mb:,.0f} MB")
    table.add_row("dashboard query p50 / p99",
                  f"{result.query_p50_ms:.1f} / {result.query_p99_ms:.1f} ms")
    out.print(table)
    if args.out:
        update_benchmarks_file(Path(args.out), report_markdown(result, datetime.now(UTC)))
        out.print(f"wrote {args.out}")
    for line in result.summary_lines():
        out.print(line, markup=False, highlight=False)
    return 0


# --- parser ---------------------------------------------------------------------------------

def _file_events_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--file-events", type=int, metavar="N", default=None,
        help="send events in payment-file messages of up to N events, one file per commune "
             "(default REPLAY_FILE_EVENTS, 500); 0 sends one event per message")


def _ledger_store(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Settings and an open store for `explain`/`lookup` (a data dir's chDB, or the server)."""
    from streams.storage import open_store

    settings = _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()
    return settings, open_store(settings)


def cmd_explain(args: argparse.Namespace) -> int:
    from rich.table import Table

    from streams.explain import explain

    _, store = _ledger_store(args)
    try:
        found = explain(store, args.period, args.commune, args.status)
    finally:
        store.close()
    if args.format == "json":
        for item in found:
            sys.stdout.write(orjson.dumps(item.as_json()).decode() + "\n")
        return 0
    table = Table(title=f"{args.period}, commune {args.commune}: {args.status or 'due or paid'}"
                  f" ({len(found)})")
    for column in ("beneficiary", "programme", "counts", "time (UTC)", "event", "channel",
                   "amount", "reason"):
        table.add_column(column)
    for item in found:
        for i, e in enumerate(item.events):
            head = (item.beneficiary, item.programme, ", ".join(item.counts)) if i == 0 else (
                "", "", "")
            table.add_row(*head, e["time"], e["type"], e["channel"], f"{e['amount_vnd']:,}",
                          e["reason"])
    out.print(table)
    return 0


def cmd_lookup(args: argparse.Namespace) -> int:
    import getpass

    from pydantic import SecretStr
    from rich.table import Table

    from streams.embedded import KEY_FILE
    from streams.explain import lookup, read_cccd
    from streams.pseudonym import Pseudonymizer

    settings, store = _ledger_store(args)
    try:
        key = settings.pseudonym_key
        if key is None and args.data_dir and (Path(args.data_dir) / KEY_FILE).is_file():
            key = SecretStr((Path(args.data_dir) / KEY_FILE).read_text().strip())
        if key is None:
            raise InputError("lookup needs the pseudonym key: set PSEUDONYM_KEY (or use "
                             "--data-dir of an embedded run, which keeps its own key)")
        text = (getpass.getpass("CCCD: ") if sys.stdin.isatty() else sys.stdin.readline())
        pseudonym, events = lookup(store, Pseudonymizer(key.get_secret_value().encode()),
                                   read_cccd(text))
    finally:
        store.close()
    if args.format == "json":
        sys.stdout.write(orjson.dumps({"beneficiary": pseudonym, "events": events}).decode()
                         + "\n")
        return 0
    table = Table(title=f"pseudonym {pseudonym}: {len(events)} events")
    for column in ("time (UTC)", "event", "period", "commune", "channel", "amount", "reason"):
        table.add_column(column)
    for e in events:
        table.add_row(e["time"], e["type"], e["period"], str(e["commune_code"]), e["channel"],
                      f"{e['amount_vnd']:,}", e["reason"])
    out.print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="welfare-monitor",
        description="Live monitoring of cashless welfare payments, commune by commune.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="simulate a scenario and run it through the embedded "
                          "pipeline (broker, Faust worker, chDB)")
    demo.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario name (default "
                      f"{DEFAULT_SCENARIO}; see `simulate --list`)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--data-dir", help="keep the chDB data here (default: a temporary dir)")
    demo.add_argument("--serve", action="store_true",
                      help="keep the live page up after the run, until Ctrl-C")
    demo.add_argument("--report", default="welfare-monitor-report.html",
                      help="static HTML report written at the end ('' for none; default "
                      "welfare-monitor-report.html)")
    demo.set_defaults(handler=cmd_demo)

    report = sub.add_parser("report", help="write a self-contained static HTML report of "
                            "an embedded run's data")
    report.add_argument("--data-dir", required=True, help="data dir of `run`/`demo --data-dir`")
    report.add_argument("--out", default="report.html", help="HTML file (default report.html)")
    report.add_argument("--period", help="YYYY-MM (default: the latest)")
    report.set_defaults(handler=cmd_report)

    simulate = sub.add_parser("simulate", help="generate a scenario's events and ground truth")
    simulate.add_argument("--scenario", help="scenario name")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--out", help="events file (JSON lines); stdout when omitted")
    simulate.add_argument("--truth", help="write the ground truth (JSON) here")
    simulate.add_argument("--list", action="store_true", help="list the scenarios")
    for flag, what in (
        ("--duplicates", "share of events sent twice (exact copies)"),
        ("--out-of-order", "share of events held back and sent up to 50 events later"),
        ("--malformed", "share of payment events followed by a malformed message (12 classes)"),
        ("--redeliver", "chance per event that the last 200 lines are sent again"),
    ):
        simulate.add_argument(flag, type=float, default=0.0, metavar="RATE", help=what)
    simulate.set_defaults(handler=cmd_simulate)

    run = sub.add_parser("run", help="run a file of events through the embedded pipeline")
    run.add_argument("--input", required=True, help="events file (JSON lines)")
    run.add_argument("--data-dir", help="keep the chDB data here (default: a temporary dir)")
    run.add_argument("--truth", help="ground-truth file from `simulate --truth`: verify "
                     "every level against it and exit 1 on any difference")
    run.add_argument("--level", choices=sorted(RESULT_LEVELS), default="commune",
                     help="which rows --format json prints (default: commune)")
    run.add_argument("--format", choices=("table", "json"), default="table",
                     help="table (default) or one JSON object per commune and line")
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser("worker", help="run the Faust worker (server mode: "
                            "KAFKA_BOOTSTRAP_SERVERS, CLICKHOUSE_URL, PSEUDONYM_KEY)")
    worker.add_argument("--migrate", action="store_true", help="apply the DDL before starting")
    worker.set_defaults(handler=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply schemas/clickhouse/NNN_*.sql in order")
    migrate.set_defaults(handler=cmd_migrate)

    replay = sub.add_parser("replay", help="send a file of events to Kafka (server mode)")
    replay.add_argument("--input", required=True, help="events file (JSON lines)")
    replay.add_argument("--speed", type=float, default=None, metavar="FACTOR",
                        help="replay at FACTOR times event time (3600: an hour a second); "
                        "default: as fast as possible")
    replay.set_defaults(handler=cmd_replay)

    for command in (demo, run, replay):
        _file_events_option(command)
    bench = sub.add_parser("bench", help="measure the embedded pipeline against the raw "
                           "Kafka client rate (make bench)")
    bench.add_argument("--events", type=int, default=1_000_000, help="events (default 1e6)")
    bench.add_argument("--scenario", default="national-month", help="scenario to take them from")
    bench.add_argument("--out", default="docs/benchmarks.md",
                       help="markdown file to update ('' for none)")
    bench.set_defaults(handler=cmd_bench)

    _file_events_option(bench)
    dashboards = sub.add_parser("dashboards", help="Grafana dashboards as code")
    dash_sub = dashboards.add_subparsers(dest="dashboards_command", required=True,
                                         metavar="ACTION")
    build = dash_sub.add_parser("build", help="regenerate dashboards/json from the code")
    build.add_argument("--check", action="store_true",
                       help="only check that the committed JSON is up to date")
    build.set_defaults(handler=cmd_dashboards_build)
    push_cmd = dash_sub.add_parser("push", help="create or update the folder, data source and "
                                   "dashboards through the Grafana HTTP API")
    push_cmd.add_argument("--url", help="Grafana URL (default GRAFANA_URL)")
    push_cmd.add_argument("--token", help="service-account token (default GRAFANA_TOKEN)")
    push_cmd.set_defaults(handler=cmd_dashboards_push)

    export = sub.add_parser("export", help="exports for banks")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    coverage = export_sub.add_parser("coverage", help="the coverage-gap ranking")
    coverage.add_argument("--format", choices=("csv", "geojson"), default="csv")
    coverage.add_argument("--data-dir", help="data dir of an embedded run (`run --data-dir`); "
                          "default: CLICKHOUSE_URL or CHDB_PATH")
    coverage.add_argument("--period", help="YYYY-MM (default: the latest)")
    coverage.add_argument("--out", help="file to write (default: stdout)")
    coverage.set_defaults(handler=cmd_export_coverage)
    explain_cmd = sub.add_parser(
        "explain", help="the pseudonyms and ledger events behind a commune's figure "
        "(operators only: it reads individual rows; see docs/ledger.md)")
    explain_cmd.add_argument("--period", required=True, help="YYYY-MM")
    explain_cmd.add_argument("--commune", required=True, type=int, help="commune code")
    explain_cmd.add_argument("--status", choices=("unpaid", "failed", "paid_twice", "unknown",
                                                  "cashless"),
                             help="only the beneficiaries behind this figure (default: "
                             "everyone due or paid)")
    lookup_cmd = sub.add_parser(
        "lookup", help="one person's ledger history; reads the CCCD from standard input "
        "(operators only; see docs/ledger.md)")
    for command in (explain_cmd, lookup_cmd):
        command.add_argument("--data-dir", help="data dir of an embedded run; default: "
                             "CLICKHOUSE_URL or CHDB_PATH")
        command.add_argument("--format", choices=("table", "json"), default="table")
    explain_cmd.set_defaults(handler=cmd_explain)
    lookup_cmd.set_defaults(handler=cmd_lookup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `welfare-monitor` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (WelfareMonitorError, SimulatorError, ContractError) as e:
        err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted; child processes stopped")
        return 130
