"""The guard refuses Faust or aiokafka code other than the code the overrides follow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from streams.errors import WelfareMonitorError
from streams.faust_ext import versions
from streams.faust_ext.versions import FaustVersionError, check_versions


def test_the_pinned_releases_are_installed_and_accepted() -> None:
    check_versions()
    pyproject = (Path(__file__).resolve().parents[4] / "pyproject.toml").read_text(encoding="utf-8")
    for distribution, version in versions.PINNED.items():
        assert f'"{distribution}=={version}"' in pyproject


def test_a_mismatched_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = versions.installed_version
    monkeypatch.setattr(
        versions, "installed_version", lambda d: "0.16.0" if d == "faust-streaming" else real(d)
    )
    with pytest.raises(FaustVersionError) as refused:
        check_versions()
    assert isinstance(refused.value, WelfareMonitorError)
    message = str(refused.value)
    assert "\n" not in message
    assert "faust-streaming 0.16.0" in message and "faust-streaming==0.15.3" in message


def test_a_changed_upstream_function_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = dict(versions.SOURCE_SHA256, **{"Consumer._new_offset": "0" * 64})
    monkeypatch.setattr(versions, "SOURCE_SHA256", changed)
    with pytest.raises(FaustVersionError, match=r"Consumer\._new_offset"):
        check_versions()


def test_the_worker_refuses_to_start_with_one_line() -> None:
    # A real `welfare-monitor worker` process, the reported aiokafka version changed.
    script = (
        "import sys\n"
        "from streams.faust_ext import versions\n"
        "versions.installed_version = lambda d: '0.11.0' if d == 'aiokafka' else '0.15.3'\n"
        "from streams.cli.main import main\n"
        "sys.exit(main(['worker']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "aiokafka 0.11.0" in lines[0] and "aiokafka==0.14.0" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
