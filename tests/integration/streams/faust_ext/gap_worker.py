"""A Faust worker built by streams.pipeline.app.create_app (so with every faust_ext override) whose
agent appends each offset it processes to a file. Run by test_offset_gaps.py:
`python gap_worker.py BOOTSTRAP APP_ID TOPIC DATADIR OUT_FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import faust

from streams.pipeline.app import create_app
from streams.settings import Settings


def main(bootstrap: str, app_id: str, topic: str, datadir: str, out: str) -> None:
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        app_id=app_id,
        faust_datadir=Path(datadir),
        topic_partitions=1,
        web_enabled=False,
        broker_exact_end_offsets=True,
        table_store="memory",
    )
    app = create_app(settings)
    source = app.topic(topic, key_serializer="raw", value_serializer="raw", partitions=1)

    async def record(stream: faust.StreamT) -> None:
        async for event in stream.events():
            with open(out, "a", encoding="utf-8") as f:
                f.write(f"{event.message.offset}\n")

    app.agent(source, name="record")(record)
    worker = faust.Worker(app, loglevel="warning", quiet=True)
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    main(*sys.argv[1:6])
