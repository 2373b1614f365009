"""What the benchmarks share: the app on a database (most benchmarks: a fresh SQLite file with the demo accounts), a
signed-in test client, a count of SQL statements, median and p95, a free loopback port, and the plain python-docx
table of the Word baselines.

Imported as ``bench.common`` once a script has put the project root on ``sys.path``.
"""
import socket
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import event

from conference import create_app
from conference.extensions import db
from conference.seed import demo

#: The only address the benchmarks serve on and send requests to.
HOST = "127.0.0.1"
#: The case list filtered by stage and 행정동 and sorted by 발굴일, and searched by a head's name.
CASE_LIST_FILTERED = "/cases?status=selected&district=중앙동&sort=discovered&direction=asc"
CASE_LIST_SEARCH = "/cases?q=김민"


def bench_app(database: Path | str, **config):
    """The app on ``database`` (a SQLite file, or a database URL) as the page benchmarks run it: test mode, CSRF off,
    ``config`` on top."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                       "WTF_CSRF_ENABLED": False, **config})


@contextmanager
def seeded_app(path: Path) -> Iterator:
    """``bench_app`` on a database built from the migrations with the demo agencies and accounts, in its app context
    (the caller adds its data and commits)."""
    app = bench_app(path)
    with app.app_context():
        upgrade()
        demo.seed(demo.DEFAULT_PASSWORD)
        yield app


def signed_in(app, username: str):
    """A test client signed in as the demo account ``username``."""
    client = app.test_client()
    client.post("/login", data={"username": username, "password": demo.DEFAULT_PASSWORD})
    return client


def count_statements(app) -> list:
    """A list that gets an entry for every SQL statement the app's engine runs from now on (clear it to restart)."""
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    return statements


def median_p95(times: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile (the nearest sample at or below it) of ``times``."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bare_table(document, headers: list[str], rows) -> object:
    """A "Table Grid" table with a header row and ``rows``, written as plain python-docx does (``add_row().cells``)."""
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for values in rows:
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    return table
