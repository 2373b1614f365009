"""The SQL statements one page runs, each with its time, and the plans of the slowest.

    .venv/bin/python bench/explain_page.py --database-url postgresql+psycopg://conference:conference@127.0.0.1:5432/conference_bench_500000 --user mh /actions
    .venv/bin/python bench/explain_page.py --database-url sqlite:////tmp/bench500000.sqlite "/cases?q=김민"

The database must hold the demo accounts and generated data (``bench/run.py --keep`` leaves its databases). The page
is requested once to warm up, then once more to record its statements; each SELECT is then run again on its own with
its results fetched (the best of three), and the slowest (``--plans``) are explained:
``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite. Every view is rendered in full (kept
pages off), as in the page table of ``bench/run.py``.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.common import bench_app, signed_in  # noqa: E402
from conference.extensions import db  # noqa: E402


def timed_statements(app) -> list:
    """A list that gets (milliseconds until the driver returned, SQL, parameters) for every statement the app's engine
    runs from now on."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append(((time.perf_counter() - conn.info.pop("bench_started")) * 1000, statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
    return statements


def replayed(app, statements: list, runs: int = 3) -> list[float]:
    """Each statement run again on its own, results fetched (SQLite does most of its work while they are fetched,
    after the timing of ``timed_statements``): the best of ``runs``, in milliseconds."""
    times = []
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for _, statement, parameters in statements:
                best = None
                for _ in range(runs):
                    started = time.perf_counter()
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                    spent = (time.perf_counter() - started) * 1000
                    best = spent if best is None else min(best, spent)
                times.append(best)
            connection.rollback()
        finally:
            connection.close()
    return times


def plan(app, statement: str, parameters) -> str:
    """The statement's plan as the database runs it (PostgreSQL: run it, with buffers)."""
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            if db.engine.dialect.name == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                lines = [row[0] for row in cursor.fetchall()]
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                depths, lines = {0: -1}, []
                for node, parent, _, detail in cursor.fetchall():  # SQLite's plan rows name their parent
                    depths[node] = depths.get(parent, -1) + 1
                    lines.append("  " * depths[node] + detail)
            connection.rollback()
            return "\n".join(lines)
        finally:
            connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--user", default="coordinator")
    parser.add_argument("--plans", type=int, default=2, help="explain this many of the slowest statements")
    args = parser.parse_args()
    app = bench_app(args.database_url, PAGE_CACHE_SIZE=0)
    statements = timed_statements(app)
    client = signed_in(app, args.user)
    if client.get(args.url).status_code != 200:
        raise SystemExit(f"GET {args.url} as {args.user} did not answer 200")
    statements.clear()
    started = time.perf_counter()
    client.get(args.url)
    total = (time.perf_counter() - started) * 1000
    statements = [s for s in statements if s[1].split(None, 1)[0].upper() == "SELECT"]
    again = replayed(app, statements)
    print(f"GET {args.url} as {args.user}: {total:.1f} ms; {len(statements)} SELECT statements, "
          f"{sum(again):.1f} ms run again on their own (results fetched)\n")
    for number, ((_, statement, _), spent) in enumerate(zip(statements, again, strict=True), start=1):
        print(f"{number:>3}. {spent:7.1f} ms  {' '.join(statement.split())[:150]}")
    slowest = sorted(zip(again, statements, strict=True), key=lambda pair: -pair[0])[:args.plans]
    for spent, (_, statement, parameters) in slowest:
        print(f"\n--- {spent:.1f} ms ---\n{statement}\n{parameters}\n\n{plan(app, statement, parameters)}")


if __name__ == "__main__":
    main()
