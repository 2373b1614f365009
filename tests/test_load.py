"""A short run of the load and fault test (bench/load_test.py); no 5xx and no acknowledged write lost.

On SQLite: gunicorn with two workers on 127.0.0.1, six users for eight seconds, one worker killed halfway.
On PostgreSQL (CONFERENCE_TEST_DATABASE_URL set), as deployed: two app servers behind nginx sharing the database,
eight users for ten seconds, a worker of one killed halfway and the other restarted (out of nginx's rotation,
stopped, started, back); then a kept page changed on one server is fresh on the other, and a logout and a login
lockout on one hold on the other. It runs in a database of its own, the test database's name + "_load" (emptied
by the script; created when missing and the role may, else the test is skipped). nginx is Debian's package, which
.ci/run installs; without it the PostgreSQL run is skipped here, and fails under CI.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.load_test import create_postgres_database
from conftest import BASE_POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.load, pytest.mark.slow]


def load_database_url() -> str | None:
    """The PostgreSQL database the run may empty, made when missing; None on SQLite."""
    if not BASE_POSTGRES_URL:
        return None
    url = make_url(BASE_POSTGRES_URL)
    url = url.set(database=f"{url.database}_load").render_as_string(hide_password=False)
    try:
        create_postgres_database(url)
    except Exception as error:
        target = make_url(url)
        pytest.skip(f"no database {target.database} and the role may not create it ({error.__class__.__name__}); "
                    f"create it owned by {target.username}")
    return url


def nginx_present() -> bool:
    if shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK):
        return True
    if os.environ.get("CI"):
        pytest.fail("nginx is missing: .ci/run installs Debian's nginx for the two-server load test")
    pytest.skip("the two-server load test needs nginx (apt-get install nginx)")


def test_short_load_run_with_a_killed_worker_loses_no_acknowledged_write():
    url = load_database_url()
    command = [sys.executable, str(ROOT / "bench" / "load_test.py"), "--users", "6", "--seconds", "8",
               "--households", "0", "--baseline-seconds", "0", "--kill-worker"]
    if url and nginx_present():
        command = [sys.executable, str(ROOT / "bench" / "load_test.py"), "--users", "8", "--seconds", "10",
                   "--households", "0", "--baseline-seconds", "0", "--kill-worker", "--servers", "2",
                   "--restart-server", "--database-url", url]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = run.communicate(timeout=150)
    except subprocess.TimeoutExpired:
        run.terminate()  # the script stops its server on SIGTERM
        output, _ = run.communicate(timeout=60)
        pytest.fail(f"the load test did not stop in time:\n{output}")
    assert run.returncode == 0, output
    summary = re.search(r"^SUMMARY (.*)$", output, re.M)
    assert summary, output
    numbers = dict(pair.split("=") for pair in summary[1].split())
    assert numbers["5xx"] == "0" and numbers["lost_writes"] == "0" and numbers["not_loopback"] == "0", output
    assert int(numbers["acknowledged"]) > 0, output
    assert re.search(r"worker pid \d+ killed \(SIGKILL\).*replaced after", output), output
    if url:
        assert numbers["servers"] == "2", output
        assert re.search(r"app server 2 restarted at [\d.]+ s: out of nginx's rotation", output), output
        assert "between the servers (kept page after a change, logout, login lockout): held" in output, output
    assert "RESULT: PASS" in output
