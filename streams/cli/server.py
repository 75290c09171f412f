"""`worker`, `migrate`, `serve` and `verify`: server mode and the embedded service."""

from __future__ import annotations

import argparse

from schemas.i18n import _
from streams.cli.common import _settings, err, out
from streams.settings import Settings

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
    out.print(
        _("migrated {target}: applied {files}").format(
            target=target, files=", ".join(applied) or _("nothing (up to date)")
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from streams.cli.ops import cmd_serve as serve

    return serve(args, _settings(args), out)


def cmd_verify(args: argparse.Namespace) -> int:
    from streams.cli.ops import cmd_verify as verify

    return verify(args, out, err)
