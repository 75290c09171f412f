"""The test kit (`streams.harness.testing`) as ops teams use it: through its pytest11 entry point in
a project outside this repository, and through the same fixture in our own tests."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulators.errors import ScenarioFileError
from streams.harness.testing import FaultSpec, ServiceHandle, build_scenario

pytestmark = pytest.mark.integration

OPS_TEST = """
from streams.harness.testing import FaultSpec, build_scenario


def test_staging_replay_matches_its_truth(welfare_service):
    scenario = build_scenario(communes=4, beneficiaries=800, periods=["2024-01", "2024-02"],
                              return_rate=0.05, repay_after_return_rate=0.5)
    truth = welfare_service.replay(
        scenario, seed=7, faults=FaultSpec(duplicates=0.05, out_of_order=0.05, malformed=0.02))
    assert welfare_service.verify(truth) == []
    assert welfare_service.dead_letters() == truth["malformed_by_class"]
"""


def test_a_project_outside_the_repo_uses_the_plugin(tmp_path: Path) -> None:
    project = tmp_path / "ops-project"
    project.mkdir()
    (project / "test_ops.py").write_text(textwrap.dedent(OPS_TEST), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(project),
            str(project),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_the_fixture_sees_a_wrong_figure(welfare_service: ServiceHandle) -> None:
    scenario = build_scenario(communes=2, beneficiaries=300, paid_cashless=12)
    truth = welfare_service.replay(scenario, seed=1, faults=FaultSpec(duplicates=0.1))
    assert truth is not None
    communes = welfare_service.figures("communes")
    assert sum(r["beneficiaries_paid_cashless"] for r in communes) == 12
    assert sum(r["beneficiaries_due"] for r in communes) == 300
    wrong = truth | {
        "communes": [
            r | {"beneficiaries_due": r["beneficiaries_due"] + 1} for r in truth["communes"]
        ]
    }
    assert welfare_service.verify(truth) == []
    diffs = welfare_service.verify(wrong)
    commune_level = [d for d in diffs if d.level == "communes"]
    assert {d.field for d in commune_level} == {"beneficiaries_due"}
    assert len(commune_level) == len(truth["communes"])
    # The coverage gap derives from the commune's due, so it moves with it; nothing else does.
    assert {d.level for d in diffs} == {"communes", "coverage"}


def test_build_scenario_refuses_mistakes() -> None:
    with pytest.raises(ScenarioFileError, match="beneficiaries"):
        build_scenario(beneficiaries=0)
    with pytest.raises(ScenarioFileError, match="no 5000 communes"):
        build_scenario(communes=5000)
