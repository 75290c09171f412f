"""welfare-monitor stream processing, in rooms by concern (tests/unit/test_rooms.py):

- `settings`, `errors`, `i18n`, `processes`: shared by every room;
- `domain/`: the rules, pure (no Faust, asyncio or I/O): ingest, reference data, pseudonyms,
  statistics, alerts, access points, the ledger fold;
- `pipeline/`: the Faust wiring around them: app, agent loop, roles, worker;
- `faust_ext/`: the only place touching Faust or aiokafka internals;
- `storage/`: the ClickHouse client, migrations, sink, the read model's SQL, the ledger's I/O;
- `web/`: the live page, its data and assets, the static report, exports;
- `replay/`: sending events to Kafka: producers, payment files, end offsets;
- `harness/`: embedded broker, service and workers, catch-up, verify, bench, the test kit;
- `importer/`: spreadsheets to events;
- `cli/`: `welfare-monitor`, one module per command group; `main` parses and dispatches.
"""

__version__ = "0.1.0"
