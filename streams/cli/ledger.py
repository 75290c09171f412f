"""`explain` and `lookup`: the ledger rows behind a figure, one person's history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from schemas.i18n import _
from streams.cli.common import _ledger_store, out
from streams.errors import InputError


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
            raise InputError(
                _(
                    "lookup needs the pseudonym key: set PSEUDONYM_KEY (or use "
                    "--data-dir of an embedded run, which keeps its own key)"
                )
            )
        text = getpass.getpass("CCCD: ") if sys.stdin.isatty() else sys.stdin.readline()
        pseudonym, events = lookup(
            store, Pseudonymizer(key.get_secret_value().encode()), read_cccd(text)
        )
    finally:
        store.close()
    if args.format == "json":
        sys.stdout.write(orjson.dumps({"beneficiary": pseudonym, "events": events}).decode() + "\n")
        return 0
    print_wide(out, lookup_table(pseudonym, events))
    return 0
