"""docker-compose (1.29, no Docker engine needed) accepts docker-compose.yml."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.mark.integration
def test_docker_compose_accepts_the_file() -> None:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed: `make tools` installs Debian's package"
    env = os.environ | {
        "CLICKHOUSE_PASSWORD": "x",
        "PSEUDONYM_KEY": "0123456789abcdef0123",
        "GRAFANA_CLICKHOUSE_PASSWORD": "y",
        "GRAFANA_ADMIN_PASSWORD": "z",
        "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD": "w",
    }
    done = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    missing = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        env={k: v for k, v in env.items() if k != "GRAFANA_ADMIN_PASSWORD"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in missing.stderr
    # The follow-up reader's password is required too: an empty one would let anyone in.
    missing = subprocess.run(
        [binary, "-f", str(COMPOSE), "config", "-q"],
        env={k: v for k, v in env.items() if k != "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0
    assert "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD" in missing.stderr
