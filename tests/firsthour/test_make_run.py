"""`make run` from a fresh database ends with one short block — URL, login, API key, the next command — and the
command it suggests works as printed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from tests.processes import ROOT, free_port

pytestmark = pytest.mark.slow

RULE = "─" * 72


def test_make_run_ends_with_the_url_login_key_and_next_command(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LOG_LEVEL")}
    env.update(ARC_VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")  # a fresh SQLite database, in-process tasks
    process = subprocess.Popen(["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while lines.count(RULE) < 2 and time.monotonic() < deadline and process.poll() is None:
            lines.append(process.stdout.readline().rstrip("\n"))
        output = "\n".join(lines)
        assert lines.count(RULE) == 2, output
        block = output[output.index(RULE):]

        assert f"Arc Eval is running at http://127.0.0.1:{port}/" in block
        assert "Log in:    demo@arc-eval.local / arc-demo-2026" in block
        key = re.search(r"API key:\s+(arc_\S+)", block).group(1)
        assert "Quit the server with CONTROL-C." in output[:output.index(RULE)]  # the block comes last
        for noise in ("eprecat", "INFO celery", "Applying ", "This is a development server", "!!"):
            assert noise not in output, noise
        assert output.count("Watching for file changes") <= 1, output

        export = re.search(r"export (ARC_BASE_URL=\S+ ARC_API_KEY=\S+)", block).group(1)
        assert export == f"ARC_BASE_URL=http://127.0.0.1:{port} ARC_API_KEY={key}"
        command = re.search(r"^\s+(\.venv/bin/arc-eval .+)$", block, re.M).group(1)
        shown = subprocess.run(["bash", "-c", f"export {export}\n{command}"], cwd=ROOT, capture_output=True,
                               text=True, timeout=60, env={**env, "ARC_CONFIG_DIR": str(tmp_path / "config")})
        assert shown.returncode == 0, shown.stderr
        assert "support-bot" in shown.stdout, shown.stdout
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
