"""Commands for ops teams: `verify` a deployment against a truth, `replay --scenario`.

`verify` exits 0 when every level equals the truth, 1 with a table of the first differences,
2 when it cannot tell (timeout, store or broker unreachable, unreadable truth), each with a
one-line reason. `--format json` prints one JSON object for CI either way.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from schemas import i18n
from schemas.i18n import _
from simulators.faults import FaultInjector, FaultRangeError, FaultSpec
from simulators.generator import PaymentCycle
from simulators.scenario import load_scenario
from streams.cli.scenario_text import fault_range_error
from streams.domain.alerts import AlertRules
from streams.errors import InputError, WelfareMonitorError
from streams.harness.catchup import CaughtUp, GroupLag, Undecided, wait_until_caught_up
from streams.harness.service import EmbeddedService, ServiceInfo, describe, fetch_results
from streams.harness.verify import Difference, differences
from streams.settings import Settings
from streams.storage.queries import read_results

SHOWN_DIFFERENCES = 20
VERIFY_COLUMNS = (
    i18n.N_("level"),
    i18n.N_("key"),
    i18n.N_("field"),
    i18n.N_("expected"),
    i18n.N_("found"),
)
TRUTH_KEYS = ("periods", "provinces", "communes", "programmes", "malformed_by_class", "totals")


def read_truth(path: Path) -> dict[str, Any]:
    """A truth file written by `simulate --truth` or `replay --scenario --truth`."""
    try:
        truth = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise InputError(
            _("cannot read the truth file {path}: {reason}").format(path=path, reason=e)
        ) from e
    missing = [k for k in TRUTH_KEYS if not isinstance(truth, dict) or k not in truth]
    if missing:
        raise InputError(
            _(
                "{path} is not a truth file (no {keys}); write one "
                "with `simulate --truth` or `replay --scenario ... --truth`"
            ).format(path=path, keys=", ".join(missing))
        )
    return dict(truth)


def _store_settings(data_dir: str | None) -> Settings:
    if not data_dir:
        return Settings()
    chdb_path = Path(data_dir) / "chdb"
    if not chdb_path.is_dir():
        raise Undecided(
            _("{data_dir} holds no chDB data (expected {chdb_path})").format(
                data_dir=data_dir, chdb_path=chdb_path
            )
        )
    return Settings().model_copy(update={"clickhouse_url": None, "chdb_path": chdb_path})


def served_settings(base: Settings, info: ServiceInfo) -> Settings:
    """`base` pointed at a running embedded service's broker and topics."""
    return base.model_copy(
        update={
            "kafka_bootstrap_servers": info.bootstrap_servers,
            "events_topic": info.events_topic,
            "app_id": info.app_id,
            "broker_exact_end_offsets": True,
        }
    )


def _probe(settings: Settings, data_dir: str | None) -> GroupLag | None:
    """The group's lag in server mode; an embedded data dir has no broker of its own to ask."""
    return None if data_dir else GroupLag(settings)


def _verdict(status: str, reason: str, diffs: list[Difference], waited: float | None) -> bytes:
    return orjson.dumps(
        {
            "status": status,
            "reason": reason,
            "waited_s": waited,
            "differences": [d.to_json() for d in diffs[:SHOWN_DIFFERENCES]],
            "differences_total": len(diffs),
        },
        option=orjson.OPT_INDENT_2,
    )


def _verify_store(args: argparse.Namespace) -> CaughtUp:
    """Wait on the store itself: a data dir nobody serves, or the server settings."""
    from streams.storage import open_store

    settings = _store_settings(args.data_dir)
    store = open_store(settings)
    probe = _probe(settings, args.data_dir)
    try:
        return wait_until_caught_up(lambda: read_results(store), probe, args.timeout)
    finally:
        store.close()
        if probe is not None:
            probe.close()


def cmd_verify(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Wait until the deployment has caught up, then compare every level with the truth."""
    as_json = args.format == "json"
    try:
        truth = read_truth(Path(args.truth))
        info = ServiceInfo.read(Path(args.data_dir)) if args.data_dir else None
        if info is not None:  # a running `serve`: its worker owns the store
            settings = served_settings(Settings(), info)
            lag = GroupLag(settings)
            try:
                caught = wait_until_caught_up(
                    lambda: fetch_results(info.web_url), lag, args.timeout
                )
            finally:
                lag.close()
        elif args.data_dir and not args.offline:
            raise Undecided(
                _(
                    "no service is running for {data_dir}; start it with "
                    "`welfare-monitor serve --data-dir {data_dir}`"
                ).format(data_dir=args.data_dir)
            )
        else:
            caught = _verify_store(args)
            settings = Settings()
    except WelfareMonitorError as e:
        if as_json:
            out.print(_verdict("unknown", str(e), [], None).decode(), markup=False)
        else:
            err.print("[bold red]" + _("cannot tell:") + f"[/] {e}", highlight=False)
        return 2
    diffs = differences(caught.results, truth, AlertRules.of(settings))
    if as_json:
        status = "equal" if not diffs else "different"
        out.print(_verdict(status, "", diffs, round(caught.waited_s, 3)).decode(), markup=False)
        return 0 if not diffs else 1
    totals = truth["totals"]
    lang = i18n.current()
    if not diffs:
        out.print(
            _(
                "equal: {cashless} cashless, and every level (nation, province, commune, "
                "programme), dead letters by class, alerts and the coverage ranking match "
                "the truth (caught up in {seconds} s)"
            ).format(
                cashless=lang.counts(
                    totals["beneficiaries_paid_cashless"], totals["beneficiaries_due"]
                ),
                seconds=lang.number(caught.waited_s, 1),
            ),
            markup=False,
            highlight=False,
        )
        return 0
    table = Table(
        title=_("{n} differences from the truth (first {shown})").format(
            n=lang.number(len(diffs)), shown=lang.number(min(len(diffs), SHOWN_DIFFERENCES))
        )
    )
    for column in VERIFY_COLUMNS:
        table.add_column(_(column))
    for d in diffs[:SHOWN_DIFFERENCES]:
        table.add_row(d.level, d.key, d.field, str(d.expected), str(d.found))
    # Wide enough for a key and a field name on one line (Console.print's width cannot
    # exceed the console's own, which is 80 columns when the output is not a terminal).
    Console(file=out.file, width=max(out.width, 140)).print(table)
    return 1


def faults_from(args: argparse.Namespace) -> FaultSpec:
    """The fault flags (`add_fault_flags`) of `simulate` and `replay --scenario`."""
    try:
        return FaultSpec(
            duplicates=args.duplicates,
            out_of_order=args.out_of_order,
            malformed=args.malformed,
            redeliver=args.redeliver,
        )
    except FaultRangeError as e:
        raise InputError(fault_range_error(e.flag)) from e


def faults_given(args: argparse.Namespace) -> bool:
    """Whether any fault flag was set."""
    return any(getattr(args, f) for f in ("duplicates", "out_of_order", "malformed", "redeliver"))


def scenario_lines(args: argparse.Namespace) -> tuple[PaymentCycle, FaultInjector]:
    """The scenario's generator and its fault injector, for streaming straight to Kafka."""
    scenario = load_scenario(args.scenario)
    faults = faults_from(args)
    cycle = PaymentCycle(scenario, args.seed)
    return cycle, FaultInjector(faults, args.seed, cycle.truth)


def write_truth(cycle: PaymentCycle, path: Path) -> None:
    """The ground truth of everything the cycle generated so far."""
    try:
        path.write_bytes(orjson.dumps(cycle.truth.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as e:
        raise InputError(
            _("cannot write the truth file {path}: {reason}").format(path=path, reason=e)
        ) from e


FAULT_FLAGS = (
    ("--duplicates", "share of events sent twice (exact copies)"),
    ("--out-of-order", "share of events held back and sent up to 50 events later"),
    ("--malformed", "share of payment events followed by a malformed message (12 classes)"),
    ("--redeliver", "chance per event that the last 200 lines are sent again"),
)


def add_fault_flags(parser: argparse.ArgumentParser) -> None:
    """The fault flags shared by `simulate` and `replay --scenario`."""
    for flag, what in FAULT_FLAGS:
        parser.add_argument(flag, type=float, default=0.0, metavar="RATE", help=what)


def add_verify_parser(sub: Any) -> argparse.ArgumentParser:
    """`welfare-monitor verify`."""
    verify = sub.add_parser(
        "verify",
        help="wait until a deployment has caught up, then compare its figures with "
        "a truth file (exit 0 equal, 1 different, 2 cannot tell)",
    )
    verify.add_argument(
        "--truth",
        required=True,
        help="truth file (`simulate --truth`, `replay --scenario --truth`)",
    )
    verify.add_argument(
        "--data-dir",
        help="data dir of an embedded run; default: the server "
        "settings (CLICKHOUSE_URL, KAFKA_BOOTSTRAP_SERVERS)",
    )
    verify.add_argument(
        "--offline",
        action="store_true",
        help="with --data-dir: read the figures a stopped embedded run stored in the data "
        "dir's chDB (no broker to wait on; the figures must be stable)",
    )
    verify.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="seconds to wait for the deployment to catch up (default 120)",
    )
    verify.add_argument("--format", choices=("table", "json"), default="table")
    return verify


def cmd_serve(args: argparse.Namespace, base: Settings, out: Console) -> int:
    """Keep the broker, the worker and the live page up for a data dir until Ctrl-C."""
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    service = EmbeddedService(data_dir, base)
    with service:
        info = ServiceInfo.read(data_dir)
        out.print(
            _("serving {data_dir}: {service}").format(data_dir=data_dir, service=describe(info)),
            markup=False,
            highlight=False,
        )
        out.print(
            _(
                "send events with `welfare-monitor replay --data-dir {data_dir} --input "
                "FILE`; Ctrl-C stops"
            ).format(data_dir=data_dir),
            markup=False,
            highlight=False,
        )
        try:
            while True:
                time.sleep(1)
                service.supervise()
        except KeyboardInterrupt:
            out.print(_("stopping"), markup=False)
    return 0


def _worker_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(_("--workers must be a whole number from 1 to 64"))
    return n


def add_workers_option(command: argparse.ArgumentParser) -> None:
    """`--workers N` of `run` and `serve` (docs/workers.md)."""
    command.add_argument(
        "--workers",
        type=_worker_count,
        default=None,
        metavar="N",
        help="worker processes (default EMBEDDED_WORKERS, 1); with 2 or more, N ingest "
        "workers in one consumer group and one store agent that owns the data dir",
    )


def add_serve_parser(sub: Any) -> argparse.ArgumentParser:
    """`welfare-monitor serve`."""
    serve = sub.add_parser(
        "serve",
        help="keep the embedded broker, worker and live page up for a data dir "
        "until Ctrl-C (send to it with `replay --data-dir`)",
    )
    serve.add_argument(
        "--data-dir",
        required=True,
        help="where the chDB data, logs and the data dir's pseudonym key live (created if missing)",
    )
    add_workers_option(serve)
    return serve
