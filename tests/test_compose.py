"""docker-compose.yml stays in step with the settings and keeps secrets out of the file."""

from pathlib import Path

import yaml

from streams.settings import Settings

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def test_app_environment_names_are_settings() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    for name in ("migrate", "worker", "simulator"):
        env = compose["services"][name]["environment"]
        unknown = set(env) - Settings.env_names() - {"SCENARIO", "SEED"}
        assert unknown == set(), f"{name}: {unknown} are not settings"


def test_no_secret_is_written_in_the_file() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key or "KEY" in key:
                assert str(value).startswith("${") and ":?" in str(value), key
