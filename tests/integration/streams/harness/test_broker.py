import socket
from pathlib import Path

import pytest

from streams.errors import BrokerError
from streams.harness.broker import EmbeddedBroker
from streams.replay.kafka_io import ensure_topics

pytestmark = pytest.mark.integration


def test_broker_starts_serves_kafka_and_stops(broker: EmbeddedBroker) -> None:
    ensure_topics(broker.bootstrap_servers, {"t-" + broker.bootstrap_servers.replace(":", "-"): 2})
    assert broker.alive()
    broker.stop()
    assert not broker.alive()


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BrokerError, match=f"port {port}"):
            EmbeddedBroker(tmp_path / "b.log", port=port).start()
