"""Where a request's CPU goes under ``bench/throughput.py``'s load: the app's workers, the database server, wrk.

    .venv/bin/python bench/cpu_budget.py --database-url sqlite:////tmp/bench50000.sqlite [--rendered]

Starts ``gunicorn -w 2`` on the database (which must hold the demo accounts and generated data, as for
``bench/throughput.py``), signs in the same way, and runs ``wrk -t2 -c8`` for a few seconds on the hello-world route
and on the four heavy pages, one after the other. For each it reads the CPU time the gunicorn processes and the
PostgreSQL server processes spent meanwhile (``/proc/PID/stat``) and wrk's own (its resource usage), and divides by
the requests served: milliseconds of CPU per request, by whom. On a machine whose cores are all busy, a page's ratio
to the hello-world route is close to the hello-world route's total over the page's total, so the table says how
much each side must lose for a target ratio.
"""
import argparse
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import targets  # noqa: E402
from bench.throughput import USER_AGENT, pages_served  # noqa: E402
from conference import create_app  # noqa: E402

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pattern: str) -> float:
    """User and system CPU seconds of every live process whose command line matches ``pattern``."""
    pids = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True,  # nosec B603 B607  # fixed argv
                          check=False).stdout.split()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / TICKS_PER_SECOND


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(database_url: str, *, rendered: bool, seconds: int) -> list[tuple[str, float, float, float, float]]:
    """(page, requests/s, gunicorn ms, database server ms, wrk ms) per request, for each URL in turn."""
    ids = targets(create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": True}))
    rows = []
    with pages_served(database_url, ids, rendered=rendered) as urls:
        for name, (url, cookie) in urls.items():
            headers = ["-H", f"User-Agent: {USER_AGENT}"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
            app_before, database_before, wrk_before = cpu_seconds("gunicorn"), cpu_seconds("postgres:"), \
                children_cpu_seconds()
            output = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", *headers, url],  # nosec B603 B607
                                    capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
            served = int(re.search(r"(\d+) requests in", output).group(1))
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            per_request = [(after - before) * 1000 / served for before, after in (
                (app_before, cpu_seconds("gunicorn")), (database_before, cpu_seconds("postgres:")),
                (wrk_before, children_cpu_seconds()))]
            rows.append((name, rate, *per_request))
    return rows


def table(rows) -> list[str]:
    hello = sum(rows[0][2:])
    lines = ["| URL | requests/s | gunicorn CPU ms | database server CPU ms | wrk CPU ms | total ms "
             "| hello-world total / total |", "|---|---|---|---|---|---|---|"]
    for name, rate, app, database, load in rows:
        total = app + database + load
        lines.append(f"| {name} | {rate:.0f} | {app:.2f} | {database:.2f} | {load:.2f} | {total:.2f} "
                     f"| {hello / total:.2f} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rendered", action="store_true", help="every view rendered (kept pages off)")
    parser.add_argument("--seconds", type=int, default=6, help="wrk duration per URL")
    args = parser.parse_args()
    print("\n".join(table(measure(args.database_url, rendered=args.rendered, seconds=args.seconds))))


if __name__ == "__main__":
    main()
