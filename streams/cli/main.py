"""The `welfare-monitor` command line: parses the arguments and dispatches to the command
groups' modules (streams/cli/*.py)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from pydantic import ValidationError

from schemas import i18n
from schemas.contracts import ContractError
from schemas.i18n import _
from simulators.errors import ScenarioFileError, SimulatorError
from streams.cli.common import DEFAULT_SCENARIO, err

# Re-exported, with write_report (cli.run): importable from here as before the split.
from streams.cli.common import _data_dir_settings as _data_dir_settings
from streams.cli.common import _settings as _settings
from streams.cli.importer import cmd_import
from streams.cli.ledger import cmd_explain, cmd_lookup
from streams.cli.ops import (
    add_fault_flags,
    add_serve_parser,
    add_verify_parser,
    add_workers_option,
)
from streams.cli.outputs import (
    cmd_bench,
    cmd_dashboards_build,
    cmd_dashboards_push,
    cmd_export_coverage,
)
from streams.cli.run import RESULT_LEVELS, cmd_demo, cmd_report, cmd_run
from streams.cli.run import write_report as write_report
from streams.cli.scenario_text import scenario_file_error
from streams.cli.server import cmd_migrate, cmd_serve, cmd_verify, cmd_worker
from streams.cli.simulate import cmd_replay, cmd_simulate
from streams.cli.targets import cmd_targets_import, cmd_targets_show
from streams.errors import WelfareMonitorError
from streams.settings import Settings

# --- parser ---------------------------------------------------------------------------------


def _file_events_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--file-events",
        type=int,
        metavar="N",
        default=None,
        help="send events in payment-file messages of up to N events, one file per commune "
        "(default REPLAY_FILE_EVENTS, 500); 0 sends one event per message",
    )


def _key_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--key",
        choices=("commune", "event", "none"),
        default=None,
        help="how the producer keys messages: by commune code, by event id, or no key "
        "(default REPLAY_KEY, commune); the figures are the same (docs/ledger.md)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="welfare-monitor",
        description="Live monitoring of cashless welfare payments, commune by commune.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="simulate a scenario and run it through the embedded "
        "pipeline (broker, Faust worker, chDB)",
    )
    demo.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help=f"scenario name (default {DEFAULT_SCENARIO}; see `simulate --list`)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--data-dir", help="keep the chDB data here (default: a temporary dir)")
    demo.add_argument(
        "--serve", action="store_true", help="keep the live page up after the run, until Ctrl-C"
    )
    demo.add_argument(
        "--report",
        default="welfare-monitor-report.html",
        help="static HTML report written at the end ('' for none; default "
        "welfare-monitor-report.html)",
    )
    demo.set_defaults(handler=cmd_demo)

    report = sub.add_parser(
        "report", help="write a self-contained static HTML report of an embedded run's data"
    )
    report.add_argument("--data-dir", required=True, help="data dir of `run`/`demo --data-dir`")
    report.add_argument("--out", default="report.html", help="HTML file (default report.html)")
    report.add_argument("--period", help="YYYY-MM (default: the latest)")
    report.add_argument("--province", metavar="CODE", help="only this province (its code)")
    report.add_argument("--commune", metavar="CODE", help="only this commune (its code)")
    report.add_argument(
        "--pdf", metavar="FILE", help="also print the report to this PDF (headless Chromium)"
    )
    report.set_defaults(handler=cmd_report)

    simulate = sub.add_parser("simulate", help="generate a scenario's events and ground truth")
    simulate.add_argument("--scenario", help="scenario name")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--out", help="events file (JSON lines); stdout when omitted")
    simulate.add_argument("--truth", help="write the ground truth (JSON) here")
    simulate.add_argument("--list", action="store_true", help="list the scenarios")
    simulate.add_argument(
        "--check",
        nargs="+",
        metavar="FILE",
        help="only check scenario files against simulators/scenario.schema.json "
        "and the rules; report every problem with its field path",
    )
    add_fault_flags(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    run = sub.add_parser("run", help="run a file of events through the embedded pipeline")
    run.add_argument("--input", required=True, help="events file (JSON lines)")
    run.add_argument("--data-dir", help="keep the chDB data here (default: a temporary dir)")
    run.add_argument(
        "--truth",
        help="ground-truth file from `simulate --truth`: verify "
        "every level against it and exit 1 on any difference",
    )
    run.add_argument(
        "--level",
        choices=sorted(RESULT_LEVELS),
        default="commune",
        help="which rows --format json prints (default: commune)",
    )
    run.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default) or one JSON object per commune and line",
    )
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser(
        "worker",
        help="run the Faust worker (server mode: "
        "KAFKA_BOOTSTRAP_SERVERS, CLICKHOUSE_URL, PSEUDONYM_KEY)",
    )
    worker.add_argument("--migrate", action="store_true", help="apply the DDL before starting")
    worker.set_defaults(handler=cmd_worker)

    migrate = sub.add_parser("migrate", help="apply schemas/clickhouse/NNN_*.sql in order")
    migrate.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="retry connecting to ClickHouse for up to SECONDS (default 0: "
        "one attempt); compose waits 120 s for a server still starting",
    )
    migrate.set_defaults(handler=cmd_migrate)

    replay = sub.add_parser(
        "replay",
        help="send a file of events, or a scenario simulated on "
        "the fly, to Kafka (server mode or `serve`)",
    )
    replay.add_argument("--input", help="events file (JSON lines)")
    replay.add_argument(
        "--scenario",
        help="simulate this scenario (name or .yaml) and send it while it is generated",
    )
    replay.add_argument("--seed", type=int, default=0, help="with --scenario (default 0)")
    replay.add_argument("--truth", help="with --scenario: write its ground truth here")
    replay.add_argument(
        "--data-dir",
        help="send to the embedded service serving this data "
        "dir (`serve`); default: KAFKA_BOOTSTRAP_SERVERS",
    )
    add_fault_flags(replay)
    replay.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="FACTOR",
        help="replay at FACTOR times event time (3600: an hour a second); "
        "default: as fast as possible",
    )
    replay.set_defaults(handler=cmd_replay)
    add_verify_parser(sub).set_defaults(handler=cmd_verify)
    add_serve_parser(sub).set_defaults(handler=cmd_serve)

    importer = sub.add_parser(
        "import",
        help="import a spreadsheet (CSV or .xlsx): a roster, "
        "a payment report or a list of access points",
    )
    importer.add_argument("file", help=".csv or .xlsx file")
    importer.add_argument("--kind", required=True, choices=("roster", "payments", "access-points"))
    importer.add_argument(
        "--mapping",
        help="YAML mapping of columns and values (default: the "
        "Vietnamese layout, see docs/import.md)",
    )
    importer.add_argument("--sheet", help="sheet of an .xlsx file (default: the first)")
    importer.add_argument(
        "--data-dir",
        help="import into this embedded data dir (default: "
        "server mode, KAFKA_BOOTSTRAP_SERVERS and CLICKHOUSE_URL)",
    )
    importer.add_argument("--errors", help="errors file (default FILE.errors.csv)")
    importer.set_defaults(handler=cmd_import)

    for command in (demo, run, replay, importer):
        _file_events_option(command)
        _key_option(command)
    add_workers_option(run)
    bench = sub.add_parser(
        "bench", help="measure the embedded pipeline against the raw Kafka client rate (make bench)"
    )
    bench.add_argument("--events", type=int, default=1_000_000, help="events (default 1e6)")
    bench.add_argument("--scenario", default="national-month", help="scenario to take them from")
    bench.add_argument(
        "--history-months",
        type=int,
        default=12,
        help="national months of history generated in SQL before the query "
        "timings (default 12; 0 skips)",
    )
    bench.add_argument(
        "--growth-periods",
        type=int,
        default=24,
        help="monthly periods of the worker memory-growth stage (default 24; 0 skips)",
    )
    bench.add_argument(
        "--freshness-seconds",
        type=int,
        default=30,
        help="seconds of events at 2,000/s for the freshness stage (default 30; 0 skips)",
    )
    bench.add_argument(
        "--out", default="docs/benchmarks.md", help="markdown file to update ('' for none)"
    )
    bench.set_defaults(handler=cmd_bench)

    _file_events_option(bench)
    targets = sub.add_parser("targets", help="cashless-rate targets per province or commune")
    targets_sub = targets.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    targets_import = targets_sub.add_parser(
        "import", help="load targets from a CSV file (docs/targets.md)"
    )
    targets_import.add_argument(
        "file",
        nargs="?",
        help="CSV: province_code, commune_code, "
        "period_from, period_to, target_pct, deadline, responsible_unit",
    )
    targets_import.add_argument(
        "--scenario",
        help="load the targets a scenario ships (binh-dinh-2023-06: illustrative, docs/targets.md)",
    )
    targets_import.set_defaults(handler=cmd_targets_import)
    for name, behind, what in (
        ("progress", False, "every commune's progress against its target"),
        ("behind", True, "the communes furthest behind their target as the deadline nears"),
    ):
        show = targets_sub.add_parser(name, help=what)
        show.add_argument("--period", help="YYYY-MM (default: the latest)")
        show.add_argument("--limit", type=int, default=20, help="rows of the ranking (20)")
        show.add_argument("--format", choices=("table", "json"), default="table")
        show.set_defaults(handler=cmd_targets_show, behind=behind)
    for command in targets_sub.choices.values():
        command.add_argument(
            "--data-dir", help="data dir of an embedded run; default: CLICKHOUSE_URL or CHDB_PATH"
        )

    dashboards = sub.add_parser("dashboards", help="Grafana dashboards as code")
    dash_sub = dashboards.add_subparsers(dest="dashboards_command", required=True, metavar="ACTION")
    build = dash_sub.add_parser("build", help="regenerate dashboards/json from the code")
    build.add_argument(
        "--check", action="store_true", help="only check that the committed JSON is up to date"
    )
    build.set_defaults(handler=cmd_dashboards_build)
    push_cmd = dash_sub.add_parser(
        "push",
        help="create or update the folder, data source and dashboards through the Grafana HTTP API",
    )
    push_cmd.add_argument("--url", help="Grafana URL (default GRAFANA_URL)")
    push_cmd.add_argument("--token", help="service-account token (default GRAFANA_TOKEN)")
    push_cmd.add_argument(
        "--datasource-uid",
        metavar="UID",
        help="use this existing ClickHouse data source (its uid) instead of "
        "creating or updating one",
    )
    push_cmd.set_defaults(handler=cmd_dashboards_push)

    export = sub.add_parser("export", help="exports for banks")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    coverage = export_sub.add_parser("coverage", help="the coverage-gap ranking")
    coverage.add_argument("--format", choices=("csv", "geojson"), default="csv")
    coverage.add_argument(
        "--data-dir",
        help="data dir of an embedded run (`run --data-dir`); default: CLICKHOUSE_URL or CHDB_PATH",
    )
    coverage.add_argument("--period", help="YYYY-MM (default: the latest)")
    coverage.add_argument("--out", help="file to write (default: stdout)")
    coverage.set_defaults(handler=cmd_export_coverage)
    explain_cmd = sub.add_parser(
        "explain",
        help="the pseudonyms and ledger events behind a commune's figure "
        "(operators only: it reads individual rows; see docs/ledger.md)",
    )
    explain_cmd.add_argument("--period", required=True, help="YYYY-MM")
    explain_cmd.add_argument("--commune", required=True, type=int, help="commune code")
    explain_cmd.add_argument(
        "--status",
        choices=("unpaid", "failed", "paid_twice", "unknown", "cashless"),
        help="only the beneficiaries behind this figure (default: everyone due or paid)",
    )
    lookup_cmd = sub.add_parser(
        "lookup",
        help="one person's ledger history; reads the CCCD from standard input "
        "(operators only; see docs/ledger.md)",
    )
    for command in (explain_cmd, lookup_cmd):
        command.add_argument(
            "--data-dir", help="data dir of an embedded run; default: CLICKHOUSE_URL or CHDB_PATH"
        )
        command.add_argument("--format", choices=("table", "json"), default="table")
    explain_cmd.set_defaults(handler=cmd_explain)
    lookup_cmd.set_defaults(handler=cmd_lookup)
    from streams.cli.followup import add_parser as add_followup_parser

    add_followup_parser(sub)
    _lang_option(parser)
    return parser


def _lang_option(parser: argparse.ArgumentParser) -> None:
    """`--lang` on every command, at any depth (it overrides the LANGUAGE setting)."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        parser.add_argument(
            "--lang",
            choices=i18n.LANGUAGES,
            default=argparse.SUPPRESS,
            help="language of what users read: vi or en (default: the LANGUAGE setting, vi)",
        )
    for action in subcommands:
        for child in action.choices.values():
            _lang_option(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `welfare-monitor` console script."""
    args = build_parser().parse_args(argv)
    try:
        i18n.use(getattr(args, "lang", None) or Settings().language)
        return int(args.handler(args))
    except (WelfareMonitorError, SimulatorError, ContractError) as e:
        text = scenario_file_error(e) if isinstance(e, ScenarioFileError) else str(e)
        err.print("[bold red]" + _("error:") + f"[/] {text}", markup=True, highlight=False)
        return 1
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        err.print(
            "[bold red]" + _("error:") + f"[/] {name}: {first['msg']}", markup=True, highlight=False
        )
        return 1
    except KeyboardInterrupt:
        err.print(_("interrupted; child processes stopped"))
        return 130
