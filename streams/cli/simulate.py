"""`simulate` and `replay`: generate a scenario's events, send events to Kafka."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from rich.progress import Progress

from schemas import i18n
from schemas.i18n import _
from simulators.errors import SimulatorError
from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import Scenario, load_scenario, scenario_names
from streams.cli.common import ProgressObserver, _progress, _settings, err, out
from streams.cli.ops import faults_from, faults_given
from streams.errors import InputError
from streams.harness.embedded import count_events, produce_file, produce_lines

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
    from streams.cli.scenario_text import problem_line, problems_line, scenario_valid_line

    bad = 0
    for name in paths:
        scenario, problems = check_file(Path(name))
        if scenario is not None:
            out.print(scenario_valid_line(name, scenario), markup=False)
            continue
        bad += 1
        err.print(problems_line(name, len(problems)), markup=False)
        for problem in problems:
            err.print("  " + problem_line(problem), markup=False, highlight=False)
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
        write_lines(
            FaultInjector(faults, args.seed, cycle.truth).lines(cycle.events()), sys.stdout.buffer
        )
        sys.stdout.flush()
    if args.truth:
        Path(args.truth).write_bytes(
            orjson.dumps(cycle.truth.to_json(), option=orjson.OPT_INDENT_2) + b"\n"
        )
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
            raise InputError(
                _(
                    "no service is running for {data_dir}; start it with "
                    "`welfare-monitor serve --data-dir {data_dir}`"
                ).format(data_dir=args.data_dir)
            )
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
            sent = produce_lines(settings, faults.lines(cycle.events()), None, observer, args.speed)
            if args.truth:
                write_truth(cycle, Path(args.truth))
    lang = i18n.current()
    out.print(
        _("replayed {events} events in {messages} messages to {topic}").format(
            events=lang.number(sent.lines),
            messages=lang.number(sent.messages),
            topic=settings.events_topic,
        )
    )
    if args.truth:
        out.print(_("ground truth written to {path}").format(path=args.truth), markup=False)
    if sent.oversize:
        lines = ", ".join(str(n) for n in sent.oversize[:10])
        err.print(
            _("dead-lettered as oversize (too big to send): line {lines}").format(lines=lines)
            + (" ..." if len(sent.oversize) > 10 else ""),
            markup=False,
            highlight=False,
        )
    if sent.objects == 0:
        err.print(
            _("error:")
            + " "
            + _(
                "no line of {path} is an event (none of its {lines} lines is a JSON object); "
                "the worker dead-letters them all"
            ).format(path=input_path, lines=i18n.current().number(sent.lines)),
            markup=False,
            highlight=False,
        )
        return 1
    return 0
