"""Our SDK installs from the server the onboarding page points at: `pip install "arc-eval-sdk @ <server>/sdk/…"`.

The distribution is not on PyPI (`arc-eval` there is another project), so the server builds the wheel from sdk/.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from django.test import Client

from arcweb.sdk_wheel import sdk_wheel, wheel_filename
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


def served_wheel() -> bytes:
    response = Client().get(f"/sdk/{wheel_filename()}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return response.content


def test_the_onboarding_page_installs_the_wheel_this_server_serves(acme):
    browser = Client()
    browser.force_login(acme.owner)
    html = browser.get("/o/acme/onboarding/").content.decode()
    command = re.search(r'pip install "arc-eval-sdk @ (http://testserver/sdk/[^"\s]+)"', html)
    assert command, "the page shows no pip command for arc-eval-sdk"
    assert Client().get(command.group(1).removeprefix("http://testserver")).status_code == 200
    assert "pip install arc-eval\n" not in html and "pip install arc-eval<" not in html


def test_only_the_current_wheel_is_served():
    assert Client().get("/sdk/arc_eval_sdk-0.0.1-py3-none-any.whl").status_code == 404
    assert Client().get("/sdk/..%2Fpyproject.toml").status_code == 404
    assert Client().post(f"/sdk/{wheel_filename()}").status_code == 405


def test_the_served_wheel_installs_offline_and_runs_the_cli(tmp_path):
    wheel = tmp_path / wheel_filename()
    wheel.write_bytes(served_wheel())
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                          "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    cli = subprocess.run([str(target / "bin" / "arc-eval"), "--version"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    version = subprocess.run([sys.executable, "-c", "import arc_eval, sys; print(arc_eval.__file__)"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0 and cli.stdout.strip() == "arc-eval 0.1.0", cli.stderr
    assert version.stdout.startswith(str(target)), version.stdout  # the installed copy, not the checkout


def test_the_wheel_is_rebuilt_only_when_the_sdk_changes():
    assert sdk_wheel() is sdk_wheel()
    assert served_wheel() == sdk_wheel().content


@pytest.mark.slow
def test_the_served_wheel_holds_what_setuptools_builds_and_the_build_warns_of_nothing(tmp_path):
    """The hand-made wheel against the one setuptools makes from sdk/pyproject.toml (also the build
    `make install` runs: its output carries no deprecation block, e.g. for a license table)."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(tmp_path),
                            str(ROOT / "sdk")], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert build.returncode == 0, build.stderr[-2000:]
    assert not re.search(r"deprecat|!!|\*{20}", build.stdout + build.stderr, re.I), build.stdout + build.stderr
    built = zipfile.ZipFile(next(Path(tmp_path).glob("*.whl")))
    ours = zipfile.ZipFile(BytesIO(served_wheel()))

    def package_files(archive):
        return {n: archive.read(n) for n in archive.namelist() if n.startswith("arc_eval/")}

    assert package_files(ours) == package_files(built)
    dist_info = {Path(n).name: n for n in built.namelist() if ".dist-info/" in n}
    ours_info = {Path(n).name: n for n in ours.namelist() if ".dist-info/" in n}
    assert ours_info.keys() >= {"METADATA", "WHEEL", "RECORD", "entry_points.txt"}
    assert ours.read(ours_info["entry_points.txt"]).split() == built.read(dist_info["entry_points.txt"]).split()
    mine, theirs = (email.message_from_bytes(a.read(i["METADATA"])) for a, i in ((ours, ours_info), (built, dist_info)))
    for field in ("Name", "Version", "Summary", "Requires-Python"):
        assert mine[field] == theirs[field], field
    assert sorted(mine.get_all("Classifier")) == sorted(theirs.get_all("Classifier"))


def test_without_the_sdk_folder_the_page_names_the_checkout_and_the_download_is_a_404(acme, settings, tmp_path):
    settings.BASE_DIR = tmp_path  # an installation that shipped without sdk/
    browser = Client()
    browser.force_login(acme.owner)
    html = browser.get("/o/acme/onboarding/").content.decode()
    assert "pip install ./sdk" in html and "arc-eval-sdk @" not in html
    assert Client().get("/sdk/arc_eval_sdk-0.1.0-py3-none-any.whl").status_code == 404
