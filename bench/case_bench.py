"""Benchmark: the case list and a case file at 1,000 and at 50,000 households.

Usage (from the project root):

    .venv/bin/python bench/case_bench.py                     # 1,000 vs 50,000 households, 30 requests each
    .venv/bin/python bench/case_bench.py --small 1000 --large 50000 --runs 30

For each size it builds a fresh SQLite database from the migrations, seeds the demo data and generates
households with ``conference.seed.datagen`` (the same generator as ``flask seed-demo --households N``), logs in as
the demo coordinator with Flask's test client and times GET requests in-process (no network): the first
page of /cases, a filtered and searched /cases, and a case file /cases/<id>. It prints median and p95
milliseconds, the number of SQL statements per request, and the ratio large/small of the medians
(target ≤ 1.5; the query counts must be equal).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.common import (CASE_LIST_FILTERED, CASE_LIST_SEARCH, count_statements, median_p95, seeded_app,  # noqa: E402
                          signed_in)
from conference.extensions import db  # noqa: E402
from conference.models import Household, User  # noqa: E402
from conference.seed.datagen import generate_households  # noqa: E402


def build(path: Path, households: int):
    with seeded_app(path) as app:
        coordinator = db.session.execute(select(User).where(User.username == "coordinator")).scalar_one()
        generate_households(households, config=app.config, coordinator_id=coordinator.id)
        db.session.commit()
        middle = db.session.execute(select(Household.id).order_by(Household.id)
                                    .offset(households // 2).limit(1)).scalar()
    return app, middle


def measure(app, urls: dict[str, str], runs: int) -> dict[str, tuple[float, float, int]]:
    client = signed_in(app, "coordinator")
    statements = count_statements(app)
    results = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url
        times, counts = [], []
        for _ in range(runs):
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            counts.append(len(statements))
            assert response.status_code == 200
        results[name] = (*median_p95(times), max(counts))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        measured = {}
        for size in (args.small, args.large):
            started = time.perf_counter()
            app, household_id = build(Path(workdir) / f"cases{size}.sqlite", size)
            print(f"{size:>7} households generated in {time.perf_counter() - started:.1f} s", flush=True)
            urls = {"case list": "/cases", "filtered list": CASE_LIST_FILTERED, "name search": CASE_LIST_SEARCH,
                    "case file": f"/cases/{household_id}"}
            measured[size] = measure(app, urls, args.runs)
        print(f"\n{'page':<16}{'median ' + str(args.small):>14}{'median ' + str(args.large):>15}"
              f"{'p95 ' + str(args.large):>12}{'ratio':>8}{'queries':>10}")
        for name in measured[args.small]:
            small, large = measured[args.small][name], measured[args.large][name]
            queries = f"{small[2]}/{large[2]}"
            print(f"{name:<16}{small[0]:>12.1f}ms{large[0]:>13.1f}ms{large[1]:>10.1f}ms{large[0] / small[0]:>8.2f}"
                  f"{queries:>10}")


if __name__ == "__main__":
    main()
