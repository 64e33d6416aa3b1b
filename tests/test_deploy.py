"""The systemd units in deploy/ pass `systemd-analyze verify`, installed as for this checkout."""

import shutil
import subprocess

import pytest

from lotsen import ROOT
from tests.conftest import IN_CI

UNITS = sorted((ROOT / "deploy").glob("*.service"))


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        message = "systemd-analyze is missing (apt install systemd); the unit check is skipped"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert [u.name for u in UNITS] == ["lotsen-scheduler.service", "lotsen-web.service"]
    installed = []
    for unit in UNITS:
        # the units expect the app in /opt/lotsen: here it is this checkout (with its .venv)
        text = unit.read_text().replace("/opt/lotsen", str(ROOT))
        (tmp_path / unit.name).write_text(text)
        installed.append(str(tmp_path / unit.name))
    done = subprocess.run(  # noqa: S603
        [tool, "verify", *installed], capture_output=True, text=True, check=False
    )
    # verify exits 0 on unknown keys too, so a warning of any kind fails the test
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr
