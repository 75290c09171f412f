"""`run`, `demo` and `report`: the embedded pipeline on a file or a scenario."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.progress import Progress

from schemas import i18n
from schemas.i18n import _
from simulators.scenario import load_scenario
from streams.cli.common import ProgressObserver, _data_dir_settings, _progress, _settings, err, out
from streams.cli.render import (
    alerts_summary,
    coverage_table,
    headline,
    json_lines,
    lowest_rate_table,
    nation_summary,
)
from streams.cli.simulate import _simulate_to
from streams.domain.alerts import AlertRules
from streams.errors import InputError
from streams.harness.embedded import EmbeddedPipeline, Produced, count_events, data_directory
from streams.harness.verify import compare
from streams.settings import Settings
from streams.storage.queries import Results
from streams.storage.targets import targets_summary


def _run_pipeline(
    input_path: Path,
    data_dir: Path,
    progress: Progress,
    settings: Settings,
    serve: bool = False,
    produced: list[Produced] | None = None,
) -> Results:
    """Run the embedded pipeline; what the producer sent is appended to `produced`."""
    pipeline = EmbeddedPipeline(settings, ProgressObserver(progress))

    def keep_serving(settings: Settings) -> None:
        progress.console.print(
            "[bold]"
            + _("All events are stored. The live page stays up at {url} until Ctrl-C.").format(
                url=f"http://{settings.web_host}:{settings.web_port}/"
            )
            + "[/]"
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            progress.console.print(_("stopping"))

    results = pipeline.run(input_path, data_dir, on_processed=keep_serving if serve else None)
    if produced is not None and pipeline.produced is not None:
        produced.append(pipeline.produced)
    return results


def write_report(
    data_dir: Path,
    out_path: Path,
    period: str | None = None,
    province: str | None = None,
    commune: str | None = None,
    pdf: Path | None = None,
) -> int:
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
        raise InputError(
            _("cannot write {path}: {reason}").format(path=out_path, reason=e.strerror or e)
        ) from e
    if pdf is not None:
        print_pdf(out_path, pdf)
    return communes


def cmd_report(args: argparse.Namespace) -> int:
    communes = write_report(
        Path(args.data_dir),
        Path(args.out),
        args.period,
        args.province,
        args.commune,
        Path(args.pdf) if args.pdf else None,
    )
    lang = i18n.current()
    written = f"{args.out}, {args.pdf}" if args.pdf else args.out
    out.print(
        _("wrote {files} ({communes} communes)").format(
            files=written, communes=lang.number(communes)
        ),
        markup=False,
    )
    return 0


RESULT_LEVELS = {
    "nation": "nation",
    "province": "provinces",
    "commune": "communes",
    "programme": "programmes",
    "coverage": "coverage",
    "alerts": "alerts",
    "dead-letters": "dead_letters",
    "targets": "targets",
}


def cmd_run(args: argparse.Namespace) -> int:
    input_path = Path(args.input)
    total = count_events(input_path)  # fail fast, before any process starts: unreadable, empty
    produced: list[Produced] = []
    with data_directory(Path(args.data_dir) if args.data_dir else None) as data_dir:
        with _progress() as progress:
            results = _run_pipeline(
                input_path, data_dir, progress, _settings(args), produced=produced
            )
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
    err.print(
        _("error:")
        + " "
        + _(
            "no line of {path} is an event (none of its {lines} lines is a JSON object); "
            "dead-lettered by class: {counts}"
        ).format(path=input_path, lines=lang.number(lines), counts=counts or _("none")),
        markup=False,
        highlight=False,
    )
    if fmt == "json":
        out.print(
            json_lines(
                [
                    {
                        "error": "no_events",
                        "input": str(input_path),
                        "lines": lines,
                        "dead_letters": dead,
                    }
                ]
            ),
            markup=False,
        )
    return 1


def _read_truth(path: Path) -> dict[str, Any]:
    try:
        truth: dict[str, Any] = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise InputError(
            _("cannot read the truth file {path}: {reason}").format(path=path, reason=e)
        ) from e
    return truth


def _verify(results: Results, truth: dict[str, Any]) -> int:
    """Compare with the ground truth on stderr; 0 when every level agrees."""
    settings = Settings()
    problems = compare(results, truth, AlertRules.of(settings))
    totals = truth["totals"]
    if not problems:
        out.print(
            _(
                "Ground truth {counts}: the pipeline's result matches the simulator's at every "
                "level (nation, province, commune, programme), dead letters by class, alerts and "
                "the coverage-gap ranking."
            ).format(
                counts=i18n.current().counts(
                    totals["beneficiaries_paid_cashless"], totals["beneficiaries_due"]
                )
            ),
            markup=False,
            highlight=False,
        )
        return 0
    err.print(
        _("The pipeline's result DIFFERS FROM the ground truth in {n} places:").format(
            n=len(problems)
        ),
        markup=False,
    )
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
        dead = ", ".join(
            f"{r['error_class']}: {i18n.current().number(r['events'])}"
            for r in results.dead_letters
        )
        out.print(_("Dead-lettered events by class: {classes}").format(classes=dead), markup=False)


def cmd_demo(args: argparse.Namespace) -> int:
    from streams.cli.targets import load_scenario_targets

    scenario = load_scenario(args.scenario)
    with (
        tempfile.TemporaryDirectory(prefix="welfare-demo-") as tmp,
        data_directory(Path(args.data_dir) if args.data_dir else None) as data_dir,
    ):
        events_path = Path(tmp) / "events.jsonl"
        err.print(f"[bold]welfare-monitor demo[/]: {scenario.title}")
        with _progress() as progress:
            cycle = _simulate_to(scenario, args.seed, events_path, progress)
            results = _run_pipeline(
                events_path, data_dir, progress, _settings(args), serve=args.serve
            )
            results = load_scenario_targets(scenario.name, _data_dir_settings(data_dir), results)
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
        out.print(
            "[dim]"
            + _("{label} is a former province: {note}").format(
                label=region.label, note=region.mapping_note
            )
            + "[/]",
            highlight=False,
        )
    return _verify(results, cycle.truth.to_json())
