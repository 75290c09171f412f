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
from pydantic import ValidationError
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
from streams import i18n
from streams.cli.ops import (
    add_fault_flags,
    add_serve_parser,
    add_verify_parser,
    faults_from,
    faults_given,
)
from streams.cli.render import (
    alerts_summary,
    coverage_table,
    headline,
    json_lines,
    lowest_rate_table,
    nation_summary,
)
from streams.domain.alerts import AlertRules
from streams.errors import InputError, WelfareMonitorError
from streams.harness.embedded import (
    EmbeddedPipeline,
    Produced,
    count_events,
    data_directory,
    produce_file,
    produce_lines,
)
from streams.harness.verify import compare
from streams.i18n import N_, _
from streams.settings import Settings
from streams.storage.queries import Results
from streams.storage.targets import targets_summary

DEFAULT_SCENARIO = "binh-dinh-2023-06"
_STAGES = {
    "simulate": N_("Simulating events"),
    "produce": N_("Sending to Kafka"),
    "process": N_("Messages processed"),
}
# The worker's progress is its committed offsets: messages, each an event or a payment file.
_UNITS = {"process": N_("messages/s")}
_EVENTS_PER_S = N_("events/s")

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
            _(_STAGES[stage]) if stage in _STAGES else stage, total=total, rate=""
        )

    def advanced(self, stage: str, completed: int) -> None:
        task_id = self._tasks[stage]
        task = self.progress.tasks[task_id]
        elapsed = task.elapsed or 0.0
        unit = _(_UNITS.get(stage, _EVENTS_PER_S))
        speed = f"{i18n.current().number(completed / elapsed)} {unit}" if elapsed > 0.5 else ""
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


def _check_scenarios(paths: list[str]) -> int:
    from simulators.scenario_check import check_file

    bad = 0
    for name in paths:
        scenario, problems = check_file(Path(name))
        if scenario is not None:
            out.print(f"{name}: valid scenario {scenario.name!r} ({len(scenario.periods)} "
                      f"periods, {scenario.beneficiaries:,} beneficiaries)", markup=False)
            continue
        bad += 1
        err.print(f"{name}: {len(problems)} problem(s)", markup=False)
        for problem in problems:
            err.print(f"  {problem}", markup=False, highlight=False)
    return 1 if bad else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.check:
        return _check_scenarios(args.check)
    if args.list:
        for name in scenario_names():
            out.print(f"{name:<24} {load_scenario(name).title}")
        return 0
    if not args.scenario:
        raise SimulatorError(_("simulate needs --scenario NAME or FILE.yaml (see --list)"))
    scenario = load_scenario(args.scenario)
    faults = faults_from(args)
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
    """Settings from the environment, with the command's --file-events, --key and --lang."""
    settings = Settings().model_copy(update={"language": i18n.current().code})
    file_events = getattr(args, "file_events", None)
    if file_events is not None:
        settings = settings.model_copy(update={"replay_file_events": file_events})
    key = getattr(args, "key", None)
    if key is not None:
        settings = settings.model_copy(update={"replay_key": key})
    return settings


def _run_pipeline(
    input_path: Path, data_dir: Path, progress: Progress, settings: Settings,
    serve: bool = False, produced: list[Produced] | None = None,
) -> Results:
    """Run the embedded pipeline; what the producer sent is appended to `produced`."""
    pipeline = EmbeddedPipeline(settings, ProgressObserver(progress))

    def keep_serving(settings: Settings) -> None:
        progress.console.print("[bold]" + _(
            "All events are stored. The live page stays up at {url} until Ctrl-C."
        ).format(url=f"http://{settings.web_host}:{settings.web_port}/") + "[/]")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            progress.console.print(_("stopping"))

    results = pipeline.run(input_path, data_dir, on_processed=keep_serving if serve else None)
    if produced is not None and pipeline.produced is not None:
        produced.append(pipeline.produced)
    return results


def _data_dir_settings(data_dir: Path) -> Settings:
    """Settings that read the chDB data an embedded run kept in `data_dir`."""
    chdb_path = data_dir / "chdb"
    if not chdb_path.is_dir():
        raise InputError(_("{data_dir} holds no chDB data (expected {chdb_path})").format(
            data_dir=data_dir, chdb_path=chdb_path))
    return Settings().model_copy(update={"clickhouse_url": None, "chdb_path": chdb_path})


def write_report(data_dir: Path, out_path: Path, period: str | None = None,
                 province: str | None = None, commune: str | None = None,
                 pdf: Path | None = None) -> int:
    """Write the static report (HTML, and PDF when `pdf` is given) of an embedded run's data,
    in the current language; returns the number of communes in its table."""
    from streams.storage import open_store
    from streams.web.static_report import parse_scope, print_pdf, render_report

    scope = parse_scope(period, province, commune)
    store = open_store(_data_dir_settings(data_dir))
    try:
        page, communes = render_report(store, scope, i18n.current())
    finally:
        store.close()
    try:
        out_path.write_text(page, encoding="utf-8")
    except OSError as e:
        raise InputError(_("cannot write {path}: {reason}").format(
            path=out_path, reason=e.strerror or e)) from e
    if pdf is not None:
        print_pdf(out_path, pdf)
    return communes


def cmd_report(args: argparse.Namespace) -> int:
    communes = write_report(Path(args.data_dir), Path(args.out), args.period, args.province,
                            args.commune, Path(args.pdf) if args.pdf else None)
    lang = i18n.current()
    written = f"{args.out}, {args.pdf}" if args.pdf else args.out
    out.print(_("wrote {files} ({communes} communes)").format(
        files=written, communes=lang.number(communes)), markup=False)
    return 0


RESULT_LEVELS = {
    "nation": "nation", "province": "provinces", "commune": "communes",
    "programme": "programmes", "coverage": "coverage", "alerts": "alerts",
    "dead-letters": "dead_letters", "targets": "targets",
}


def cmd_run(args: argparse.Namespace) -> int:
    input_path = Path(args.input)
    total = count_events(input_path)  # fail fast, before any process starts: unreadable, empty
    produced: list[Produced] = []
    with data_directory(Path(args.data_dir) if args.data_dir else None) as data_dir:
        with _progress() as progress:
            results = _run_pipeline(input_path, data_dir, progress, _settings(args),
                                    produced=produced)
    if produced and produced[0].objects == 0:
        return _no_events(input_path, total, results, args.format)
    if args.format == "json":
        rows = getattr(results, RESULT_LEVELS[args.level])
        if rows:
            out.print(json_lines(rows), markup=False)
    else:
        _print_results(results)
    if args.truth:
        return _verify(results, _read_truth(Path(args.truth)))
    return 0


def _no_events(input_path: Path, lines: int, results: Results, fmt: str) -> int:
    """Say that no line of the input was an event, with the dead-letter counts; exit 1."""
    dead = {str(r["error_class"]): int(r["events"]) for r in results.dead_letters}
    lang = i18n.current()
    counts = ", ".join(f"{name}: {lang.number(count)}" for name, count in sorted(dead.items()))
    err.print(_("error:") + " " + _(
        "no line of {path} is an event (none of its {lines} lines is a JSON object); "
        "dead-lettered by class: {counts}").format(
            path=input_path, lines=lang.number(lines), counts=counts or _("none")),
        markup=False, highlight=False)
    if fmt == "json":
        out.print(json_lines([{"error": "no_events", "input": str(input_path), "lines": lines,
                               "dead_letters": dead}]), markup=False)
    return 1


def _read_truth(path: Path) -> dict[str, Any]:
    try:
        truth: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise InputError(_("cannot read the truth file {path}: {reason}").format(
            path=path, reason=e)) from e
    return truth


def _verify(results: Results, truth: dict[str, Any]) -> int:
    """Compare with the ground truth on stderr; 0 when every level agrees."""
    settings = Settings()
    rules = AlertRules(settings.alert_cashless_target, settings.alert_rate_drop_points,
                       settings.alert_min_beneficiaries)
    problems = compare(results, truth, rules)
    totals = truth["totals"]
    if not problems:
        out.print(_(
            "Ground truth {counts}: the pipeline's result matches the simulator's at every "
            "level (nation, province, commune, programme), dead letters by class, alerts and "
            "the coverage-gap ranking."
        ).format(counts=i18n.current().counts(totals["beneficiaries_paid_cashless"],
                                              totals["beneficiaries_due"])),
            markup=False, highlight=False)
        return 0
    err.print(_("The pipeline's result DIFFERS FROM the ground truth in {n} places:").format(
        n=len(problems)), markup=False)
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
    if results.targets:
        out.print(targets_summary(results.targets), markup=False)
    out.print(alerts_summary(results.alerts), markup=False)
    if results.dead_letters:
        dead = ", ".join(f"{r['error_class']}: {i18n.current().number(r['events'])}"
                         for r in results.dead_letters)
        out.print(_("Dead-lettered events by class: {classes}").format(classes=dead),
                  markup=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from streams.cli.targets import load_scenario_targets

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
            results = load_scenario_targets(scenario.name, _data_dir_settings(data_dir),
                                            results)
        if args.report:
            write_report(data_dir, Path(args.report))
            err.print(_("static report: {path}").format(path=args.report), markup=False)
    region = scenario.region
    labels = (
        {region.province_codes[0]: region.label}
        if region.label and region.province_codes != "all" and len(region.province_codes) == 1
        else {}
    )
    _print_results(results, labels)
    if region.label:
        out.print("[dim]" + _("{label} is a former province: {note}").format(
            label=region.label, note=region.mapping_note) + "[/]", highlight=False)
    return _verify(results, cycle.truth.to_json())


# --- server mode ----------------------------------------------------------------------------

def cmd_worker(args: argparse.Namespace) -> int:
    from streams.pipeline.worker import run_worker

    run_worker(Settings(), apply_migrations=args.migrate)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from streams.storage import open_store
    from streams.storage.migrate import migrate
    from streams.storage.wait import wait_for_store

    settings = Settings()
    store = wait_for_store(lambda: open_store(settings), args.wait)
    try:
        applied = migrate(store)
    finally:
        store.close()
    target = settings.clickhouse_url or f"chDB at {settings.chdb_path}"
    out.print(_("migrated {target}: applied {files}").format(
        target=target, files=", ".join(applied) or _("nothing (up to date)")))
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from streams.replay.kafka_io import ensure_topics

    settings = _settings(args)
    if args.scenario is None and args.input is None:
        raise InputError(_("replay needs --input FILE or --scenario NAME"))
    if args.scenario is not None and args.input is not None:
        raise InputError(_("replay takes --input FILE or --scenario NAME, not both"))
    if args.scenario is None and (args.truth or faults_given(args)):
        raise InputError(_("--truth and the fault flags go with --scenario NAME"))
    if args.data_dir:
        from streams.cli.ops import served_settings
        from streams.harness.service import ServiceInfo

        info = ServiceInfo.read(Path(args.data_dir))
        if info is None:
            raise InputError(_("no service is running for {data_dir}; start it with "
                               "`welfare-monitor serve --data-dir {data_dir}`").format(
                                   data_dir=args.data_dir))
        settings = served_settings(settings, info)
    input_path = Path(args.input) if args.input else None
    total = count_events(input_path) if input_path else None
    ensure_topics(settings.kafka_bootstrap_servers, settings.topic_layout())
    with _progress() as progress:
        observer = ProgressObserver(progress)
        if input_path is not None and total is not None:
            sent = produce_file(settings, input_path, total, observer, args.speed)
        else:
            from streams.cli.ops import scenario_lines, write_truth

            cycle, faults = scenario_lines(args)
            sent = produce_lines(settings, faults.lines(cycle.events()), None, observer,
                                 args.speed)
            if args.truth:
                write_truth(cycle, Path(args.truth))
    lang = i18n.current()
    out.print(_("replayed {events} events in {messages} messages to {topic}").format(
        events=lang.number(sent.lines), messages=lang.number(sent.messages),
        topic=settings.events_topic))
    if args.truth:
        out.print(_("ground truth written to {path}").format(path=args.truth), markup=False)
    if sent.oversize:
        lines = ", ".join(str(n) for n in sent.oversize[:10])
        err.print(_("dead-lettered as oversize (too big to send): line {lines}").format(
                      lines=lines)
                  + (" ..." if len(sent.oversize) > 10 else ""), markup=False, highlight=False)
    if sent.objects == 0:
        err.print(_("error:") + " " + _(
            "no line of {path} is an event (none of its {lines} lines is a JSON object); "
            "the worker dead-letters them all").format(
                path=input_path, lines=i18n.current().number(sent.lines)),
                  markup=False, highlight=False)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from streams.cli.ops import cmd_serve as serve

    return serve(args, _settings(args), out)


def cmd_verify(args: argparse.Namespace) -> int:
    from streams.cli.ops import cmd_verify as verify

    return verify(args, out, err)


# --- import ---------------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    from streams.cli.importer import (
        ImportRequest,
        import_embedded,
        import_server,
        report_problems,
        summary_lines,
    )

    request = ImportRequest(
        Path(args.file), args.kind, Path(args.mapping) if args.mapping else None, args.sheet,
        Path(args.data_dir) if args.data_dir else None, args.errors)
    with _progress() as progress:
        observer = ProgressObserver(progress)
        run = import_embedded if request.data_dir else import_server
        outcome = run(request, _settings(args), progress, observer)
    converted = outcome.converted
    for line in summary_lines(outcome):
        out.print(line, markup=False)
    report_problems(converted, err, outcome.errors_file)
    if outcome.results is not None:
        _print_results(outcome.results)
    return 3 if converted.problems else 0


# --- targets --------------------------------------------------------------------------------

def _store_settings(args: argparse.Namespace) -> Settings:
    return _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()


def cmd_targets_import(args: argparse.Namespace) -> int:
    from streams.cli.targets import import_targets

    loaded, alerts = import_targets(_store_settings(args), args.file, args.scenario)
    out.print(_("loaded {n} targets; behind_target alerts: {holding} active ({raised} raised, "
                "{cleared} cleared)").format(n=loaded, holding=alerts.holding,
                                            raised=len(alerts.raised),
                                            cleared=len(alerts.cleared)), markup=False)
    return 0


def cmd_targets_show(args: argparse.Namespace) -> int:
    from streams.cli.targets import target_rows, target_table

    rows = target_rows(_store_settings(args), args.period, args.behind, args.limit)
    if args.format == "json":
        if rows:
            out.print(json_lines(rows), markup=False)
    else:
        out.print(target_table(rows, args.behind), width=max(out.width, 120))
    return 0


# --- dashboards / export --------------------------------------------------------------------

def cmd_dashboards_build(args: argparse.Namespace) -> int:
    from dashboards.build import JSON_DIR, stale, write_all

    if args.check:
        outdated = stale()
        if outdated:
            err.print(_("out of date: {names}; run `welfare-monitor dashboards build` and "
                        "commit dashboards/json").format(names=", ".join(outdated)),
                      markup=False)
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
    token = args.token or (settings.grafana_token.get_secret_value()
                           if settings.grafana_token else None)
    if not token:
        raise DashboardError(_("dashboards push needs a Grafana service-account token: "
                               "--token TOKEN or GRAFANA_TOKEN"))
    password = settings.grafana_clickhouse_password
    source = None if args.datasource_uid else DataSourceConfig(
        host=settings.grafana_clickhouse_host, port=settings.grafana_clickhouse_port,
        database=settings.clickhouse_database, user=settings.grafana_clickhouse_user,
        password=password.get_secret_value() if password else None,
    )
    report = push(url, token, source, datasource_uid=args.datasource_uid)
    out.print(_("Grafana {url}: folders {folder}, data source {datasource} ({uid}), dashboards "
                "{dashboards}").format(url=url, folder=report.folder,
                                       datasource=report.datasource, uid=report.datasource_uid,
                                       dashboards=", ".join(report.dashboards)), markup=False)
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
        err.print(_("wrote {n} communes to {path}").format(n=len(rows), path=args.out),
                  markup=False)
    else:
        sys.stdout.write(text)
    return 0


# --- bench ----------------------------------------------------------------------------------

def cmd_bench(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from rich.table import Table

    from streams.harness.bench import report_markdown, run_bench, update_benchmarks_file

    negative = args.history_months < 0 or args.freshness_seconds < 0
    if negative or args.growth_periods not in (0, *range(6, 121)):
        raise InputError("--history-months and --freshness-seconds must be 0 or more, "
                         "--growth-periods 0 or 6 to 120")
    with _progress() as progress:
        result = run_bench(args.events, args.scenario, ProgressObserver(progress),
                           lambda stage: progress.console.print(f"[dim]{stage}[/]"),
                           file_events=args.file_events, history_months=args.history_months,
                           growth_periods=args.growth_periods,
                           freshness_seconds=args.freshness_seconds)
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


def _key_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--key", choices=("commune", "event", "none"), default=None,
        help="how the producer keys messages: by commune code, by event id, or no key "
             "(default REPLAY_KEY, commune); the figures are the same (docs/ledger.md)")


def _ledger_store(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Settings and an open store for `explain`/`lookup` (a data dir's chDB, or the server)."""
    from streams.storage import open_store

    settings = _data_dir_settings(Path(args.data_dir)) if args.data_dir else Settings()
    return settings, open_store(settings)


def cmd_explain(args: argparse.Namespace) -> int:
    from streams.storage.explain import explain, explain_table, print_wide

    _, store = _ledger_store(args)
    try:
        found = explain(store, args.period, args.commune, args.status)
    finally:
        store.close()
    if args.format == "json":
        for item in found:
            sys.stdout.write(orjson.dumps(item.as_json()).decode() + "\n")
        return 0
    print_wide(out, explain_table(found, args.period, args.commune, args.status))
    return 0


def cmd_lookup(args: argparse.Namespace) -> int:
    import getpass

    from pydantic import SecretStr

    from streams.domain.pseudonym import Pseudonymizer
    from streams.harness.embedded import KEY_FILE
    from streams.storage.explain import lookup, lookup_table, print_wide, read_cccd

    settings, store = _ledger_store(args)
    try:
        key = settings.pseudonym_key
        if key is None and args.data_dir and (Path(args.data_dir) / KEY_FILE).is_file():
            key = SecretStr((Path(args.data_dir) / KEY_FILE).read_text().strip())
        if key is None:
            raise InputError(_("lookup needs the pseudonym key: set PSEUDONYM_KEY (or use "
                               "--data-dir of an embedded run, which keeps its own key)"))
        text = (getpass.getpass("CCCD: ") if sys.stdin.isatty() else sys.stdin.readline())
        pseudonym, events = lookup(store, Pseudonymizer(key.get_secret_value().encode()),
                                   read_cccd(text))
    finally:
        store.close()
    if args.format == "json":
        sys.stdout.write(orjson.dumps({"beneficiary": pseudonym, "events": events}).decode()
                         + "\n")
        return 0
    print_wide(out, lookup_table(pseudonym, events))
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
    report.add_argument("--province", metavar="CODE", help="only this province (its code)")
    report.add_argument("--commune", metavar="CODE", help="only this commune (its code)")
    report.add_argument("--pdf", metavar="FILE", help="also print the report to this PDF "
                        "(headless Chromium)")
    report.set_defaults(handler=cmd_report)

    simulate = sub.add_parser("simulate", help="generate a scenario's events and ground truth")
    simulate.add_argument("--scenario", help="scenario name")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--out", help="events file (JSON lines); stdout when omitted")
    simulate.add_argument("--truth", help="write the ground truth (JSON) here")
    simulate.add_argument("--list", action="store_true", help="list the scenarios")
    simulate.add_argument("--check", nargs="+", metavar="FILE",
                          help="only check scenario files against simulators/scenario.schema.json "
                          "and the rules; report every problem with its field path")
    add_fault_flags(simulate)
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
    migrate.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                         help="retry connecting to ClickHouse for up to SECONDS (default 0: "
                         "one attempt); compose waits 120 s for a server still starting")
    migrate.set_defaults(handler=cmd_migrate)

    replay = sub.add_parser("replay", help="send a file of events, or a scenario simulated on "
                            "the fly, to Kafka (server mode or `serve`)")
    replay.add_argument("--input", help="events file (JSON lines)")
    replay.add_argument("--scenario", help="simulate this scenario (name or .yaml) and send it "
                        "while it is generated")
    replay.add_argument("--seed", type=int, default=0, help="with --scenario (default 0)")
    replay.add_argument("--truth", help="with --scenario: write its ground truth here")
    replay.add_argument("--data-dir", help="send to the embedded service serving this data "
                        "dir (`serve`); default: KAFKA_BOOTSTRAP_SERVERS")
    add_fault_flags(replay)
    replay.add_argument("--speed", type=float, default=None, metavar="FACTOR",
                        help="replay at FACTOR times event time (3600: an hour a second); "
                        "default: as fast as possible")
    replay.set_defaults(handler=cmd_replay)
    add_verify_parser(sub).set_defaults(handler=cmd_verify)
    add_serve_parser(sub).set_defaults(handler=cmd_serve)

    importer = sub.add_parser("import", help="import a spreadsheet (CSV or .xlsx): a roster, "
                              "a payment report or a list of access points")
    importer.add_argument("file", help=".csv or .xlsx file")
    importer.add_argument("--kind", required=True, choices=("roster", "payments",
                                                            "access-points"))
    importer.add_argument("--mapping", help="YAML mapping of columns and values (default: the "
                          "Vietnamese layout, see docs/import.md)")
    importer.add_argument("--sheet", help="sheet of an .xlsx file (default: the first)")
    importer.add_argument("--data-dir", help="import into this embedded data dir (default: "
                          "server mode, KAFKA_BOOTSTRAP_SERVERS and CLICKHOUSE_URL)")
    importer.add_argument("--errors", help="errors file (default FILE.errors.csv)")
    importer.set_defaults(handler=cmd_import)

    for command in (demo, run, replay, importer):
        _file_events_option(command)
        _key_option(command)
    bench = sub.add_parser("bench", help="measure the embedded pipeline against the raw "
                           "Kafka client rate (make bench)")
    bench.add_argument("--events", type=int, default=1_000_000, help="events (default 1e6)")
    bench.add_argument("--scenario", default="national-month", help="scenario to take them from")
    bench.add_argument("--history-months", type=int, default=12,
                       help="national months of history generated in SQL before the query "
                       "timings (default 12; 0 skips)")
    bench.add_argument("--growth-periods", type=int, default=24,
                       help="monthly periods of the worker memory-growth stage (default 24; "
                       "0 skips)")
    bench.add_argument("--freshness-seconds", type=int, default=30,
                       help="seconds of events at 2,000/s for the freshness stage (default 30; "
                       "0 skips)")
    bench.add_argument("--out", default="docs/benchmarks.md",
                       help="markdown file to update ('' for none)")
    bench.set_defaults(handler=cmd_bench)

    _file_events_option(bench)
    targets = sub.add_parser("targets", help="cashless-rate targets per province or commune")
    targets_sub = targets.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    targets_import = targets_sub.add_parser("import", help="load targets from a CSV file "
                                            "(docs/targets.md)")
    targets_import.add_argument("file", nargs="?", help="CSV: province_code, commune_code, "
                                "period_from, period_to, target_pct, deadline, responsible_unit")
    targets_import.add_argument("--scenario", help="load the targets a scenario ships "
                                "(binh-dinh-2023-06: illustrative, docs/targets.md)")
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
        command.add_argument("--data-dir", help="data dir of an embedded run; default: "
                             "CLICKHOUSE_URL or CHDB_PATH")

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
    push_cmd.add_argument("--datasource-uid", metavar="UID",
                          help="use this existing ClickHouse data source (its uid) instead of "
                          "creating or updating one")
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
    _lang_option(parser)
    return parser


def _lang_option(parser: argparse.ArgumentParser) -> None:
    """`--lang` on every command, at any depth (it overrides the LANGUAGE setting)."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        parser.add_argument("--lang", choices=i18n.LANGUAGES, default=argparse.SUPPRESS,
                            help="language of what users read: vi or en (default: the "
                            "LANGUAGE setting, vi)")
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
        err.print("[bold red]" + _("error:") + f"[/] {e}", markup=True, highlight=False)
        return 1
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        err.print("[bold red]" + _("error:") + f"[/] {name}: {first['msg']}", markup=True,
                  highlight=False)
        return 1
    except KeyboardInterrupt:
        err.print(_("interrupted; child processes stopped"))
        return 130
