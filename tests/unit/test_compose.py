"""docker-compose.yml stays in step with the settings and keeps secrets out of the file."""

import re
from pathlib import Path

import yaml

from streams.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_app_environment_names_are_settings() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in ("migrate", "worker", "simulator"):
        env = compose["services"][name]["environment"]
        unknown = set(env) - Settings.env_names() - {"SCENARIO", "SEED"}
        assert unknown == set(), f"{name}: {unknown} are not settings"


def test_grafana_and_clickhouse_get_the_provisioning_they_need() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"kafka", "clickhouse", "migrate", "worker", "simulator", "grafana"} <= set(services)
    assert (
        "grafana-clickhouse-datasource" in services["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    )
    mounted = [v for v in services["clickhouse"]["volumes"] if v.startswith("./")]
    assert mounted
    for volume in mounted:
        assert (COMPOSE.parent / volume.split(":")[0]).is_file(), volume
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    for service in services.values():
        image = service.get("image", "")
        assert not image or ":${" in image, f"{image} must be pinned and overridable"


def test_no_secret_is_written_in_the_file() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "KEY" in key:
                assert str(value).startswith("${") and ":?" in str(value), key


def test_kafka_keeps_its_data_in_the_volume() -> None:
    """apache/kafka's docker/resources/common-scripts/configureDefaults sets KAFKA_LOG_DIRS to
    /tmp/kraft-combined-logs when it is unset, outside the volume."""
    kafka = yaml.safe_load(COMPOSE.read_text())["services"]["kafka"]
    [data] = [v for v in kafka["volumes"] if v.startswith("kafka-data:")]
    assert kafka["environment"]["KAFKA_LOG_DIRS"] == data.split(":")[1]


def test_each_worker_keeps_its_state_in_a_volume() -> None:
    """The image's FAUST_DATADIR is a volume of each replica's own (anonymous: never shared
    between scaled replicas), created in the image for the worker's user."""
    worker = yaml.safe_load(COMPOSE.read_text())["services"]["worker"]
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    datadir = re.search(r"FAUST_DATADIR=(\S+)", dockerfile)
    assert datadir
    assert datadir.group(1) in worker["volumes"]
    assert f"install -d -o monitor -g monitor {datadir.group(1)}" in dockerfile


def test_clickhouse_listens_on_loopback_only_by_default() -> None:
    """ClickHouse holds pseudonymised individual payments: its port is not published on every
    interface unless CLICKHOUSE_HTTP_BIND says so."""
    ports = yaml.safe_load(COMPOSE.read_text())["services"]["clickhouse"]["ports"]
    assert ports == ["${CLICKHOUSE_HTTP_BIND:-127.0.0.1}:${CLICKHOUSE_HTTP_PORT:-8123}:8123"]


def test_the_build_context_leaves_out_virtualenvs_and_data() -> None:
    ignored = (COMPOSE.parent / ".dockerignore").read_text().split()
    assert {".venv", ".git", "data"} <= set(ignored)
