"""Grafana's read-only ClickHouse user through docker-compose: `docker-compose config` hands the
password from the environment to the ClickHouse container unchanged (split from
test_provisioning.py, which explains how the image and `from_env` read it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


COMPOSE = ROOT / "docker-compose.yml"


HOSTILE = ["it's", "a&b", "back\\slash", "<tag>&amp;", 'dq"$HOME;`id`', "ví dụ mật khẩu"]


@pytest.mark.integration
@pytest.mark.parametrize("secret", HOSTILE)
def test_compose_hands_the_password_over_unchanged(secret: str) -> None:
    """docker-compose's own interpolation of the environment (`docker-compose config`)."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed: `make tools` installs Debian's package"
    env = os.environ | {
        "CLICKHOUSE_PASSWORD": "x",
        "PSEUDONYM_KEY": "0123456789abcdef0123",
        "GRAFANA_CLICKHOUSE_PASSWORD": secret,
        "GRAFANA_ADMIN_PASSWORD": "z",
        "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD": secret + "-followup",
    }
    done = subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    for service in ("clickhouse", "grafana"):
        value = resolved["services"][service]["environment"]["GRAFANA_CLICKHOUSE_PASSWORD"]
        # docker-compose config escapes '$' as '$$' in its output; compose un-escapes it.
        assert value.replace("$$", "$") == secret
        followup = resolved["services"][service]["environment"][
            "GRAFANA_FOLLOWUP_CLICKHOUSE_PASSWORD"
        ]
        assert followup.replace("$$", "$") == secret + "-followup"
