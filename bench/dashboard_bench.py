"""Benchmark: the dashboard at 1,000 and at 50,000 households, each with its generated history.

Usage (from the project root):

    .venv/bin/python bench/dashboard_bench.py            # 15 requests per size
    .venv/bin/python bench/dashboard_bench.py --runs 31

Builds both databases from the migrations with the demo data and ``conference.seed.datagen.generate`` (the generator
behind ``flask seed-demo --households N``: households over the last three years with their meetings, minutes,
actions and monitoring), then times GET /dashboard for last year in-process as the demo coordinator
and as a practitioner, twice: "computed" moves the figures version on before every request (as a change to
the counted data does), so every figure is computed again by its aggregate query; "reused" is the usual case
of a page viewed again before the data changes (conference/shared/freshness.py). Prints median and p95
milliseconds, the ratio large/small (target ≤ 2) and the number of SQL statements per request (it must not
change with the data: every figure is one aggregate query).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from bench.common import count_statements, median_p95, seeded_app, signed_in  # noqa: E402
from conference.core.formatting import today_local  # noqa: E402
from conference.extensions import db  # noqa: E402
from conference.models import User  # noqa: E402
from conference.seed.datagen import generate  # noqa: E402
from conference.shared import freshness  # noqa: E402


def build(path: Path, households: int):
    with seeded_app(path) as app:
        users = {u.username: u.id for u in db.session.execute(select(User)).scalars()}
        generate(households, config=app.config, coordinator_id=users["coordinator"], chair_id=users["chair"])
        db.session.commit()
    return app


def measure(app, username: str, runs: int, *, recompute: bool) -> tuple[float, float, int]:
    client = signed_in(app, username)
    statements = count_statements(app)
    url = f"/dashboard?year={today_local().year - 1}"
    assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        if recompute:
            with app.app_context(), db.engine.begin() as connection:
                freshness.raise_versions(connection)
        statements.clear()
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    return (*median_p95(times), len(statements))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for households in (1000, 50000):
            started = time.perf_counter()
            app = build(Path(workdir) / f"d{households}.sqlite", households)
            print(f"{households:>6} households and their history generated in {time.perf_counter() - started:.1f} s",
                  flush=True)
            results[households] = {(user, mode): measure(app, user, args.runs, recompute=mode == "computed")
                                   for user in ("coordinator", "mh") for mode in ("computed", "reused")}
    print(f"\n{'user':<12}{'figures':<10}{'median 1k':>12}{'median 50k':>12}{'p95 50k':>10}{'ratio':>8}{'queries':>10}")
    for key in results[1000]:
        small, large = results[1000][key], results[50000][key]
        print(f"{key[0]:<12}{key[1]:<10}{small[0]:>10.1f}ms{large[0]:>10.1f}ms{large[1]:>8.1f}ms"
              f"{large[0] / small[0]:>8.2f}{f'{small[2]}/{large[2]}':>10}")


if __name__ == "__main__":
    main()
