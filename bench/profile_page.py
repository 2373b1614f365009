"""Where one page's time goes: cProfile over repeated requests, the app configured as under gunicorn.

    .venv/bin/python bench/profile_page.py --db /tmp/large.db --households 50000 --user coordinator /meetings/1

The database is built with ``seed-demo --households N`` when the file does not exist yet and kept for the next
run. CSRF stays on and TESTING off, as on a real server; the login goes through the form. Every view is rendered in
full (kept pages off) unless ``--kept`` is given.
"""
import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from conference import create_app  # noqa: E402
from conference.seed import demo  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--households", type=int, default=50000)
    parser.add_argument("--user", default="coordinator")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--kept", action="store_true", help="kept pages on, as deployed (default: every view rendered)")
    args = parser.parse_args()

    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.db}", "SECRET_KEY": "profile"}
    app = create_app(config if args.kept else {**config, "PAGE_CACHE_SIZE": 0})
    if not args.db.exists():
        with app.app_context():
            upgrade()
        result = app.test_cli_runner().invoke(args=["seed-demo", "--households", str(args.households)])
        if result.exit_code != 0:
            raise SystemExit(result.output)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post("/login", data={"username": args.user, "password": demo.DEFAULT_PASSWORD, "csrf_token": token})
    first = client.get(args.url)
    if first.status_code != 200:
        raise SystemExit(f"GET {args.url} gave {first.status_code}")
    times = []
    for _ in range(5):
        started = time.perf_counter()
        client.get(args.url)
        times.append((time.perf_counter() - started) * 1000)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.runs):
        client.get(args.url)
    profiler.disable()
    print(f"median of 5 unprofiled requests: {statistics.median(times):.1f} ms")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
