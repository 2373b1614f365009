"""Benchmark: hostile discovery lists through `flask import-households`, time and memory to refusal.

Usage (from the project root):

    .venv/bin/python bench/bench_import_limits.py              # every hostile file, 5 runs each (≈ 1 min)
    .venv/bin/python bench/bench_import_limits.py --runs 9 --no-reference

What it does: builds the hostile files of tests/hostile_uploads.py (the review's 1.7 KB sheet with one row numbered
20,000,000, its 2,000,000-cell row, a part declaring 1 GiB, a zip bomb, ten sheets …, and the two refused last: one
data row too many, XML elements past the budget) and, for reference, the largest list a real user sends (20,000 rows
as .xlsx, read with --dry-run), in a temporary directory with a migrated SQLite database. Each file gets a fresh
process that creates the app, notes its resident memory, then runs the command ``--runs`` times as the shell would
(click, the app's configuration), timing each run, and notes its peak resident memory.

Prints, per file: the exit code, the median duration of the command (and its CPU time: on a busy machine the steadier
figure), the slowest, the process's start-up, the peak memory above the idle app, and the first line of what it said.
Targets: a hostile file is refused with exit code 1, in under 2 s (median CPU time), with under 300 MB above idle; the
script exits 1 when one is missed.
"""
import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET_SECONDS, TARGET_MB = 2.0, 300


def hostile_files() -> dict:
    import hostile_uploads as hostile

    return {
        "row 20,000,000 (dimension says so)": (hostile.row_far_below, "list.xlsx"),
        "row 20,000,000 (dimension A1:K2)": (lambda: hostile.row_far_below(declared=False), "list.xlsx"),
        "one row of 2,000,000 cells": (hostile.wide_row, "list.xlsx"),
        "one row of 20,000 cells": (lambda: hostile.wide_row(20_000), "list.xlsx"),
        "a part declaring 1 GiB": (hostile.gigabyte_part, "list.xlsx"),
        "zip bomb (8 MB of zeros)": (hostile.zip_bomb, "list.xlsx"),
        "10 MB of rows declared as 64 KB": (hostile.understated_part, "list.xlsx"),
        "10 sheets": (hostile.many_sheets, "list.xlsx"),
        "101 parts": (hostile.many_parts, "list.xlsx"),
        "entity expansion (DTD)": (hostile.entity_expansion, "list.xlsx"),
        "CSV: 25,001 empty lines": (hostile.csv_far_below, "list.csv"),
        "CSV: one line of 100,000 fields": (hostile.csv_wide_row, "list.csv"),
        "slowest refusal: 20,001 rows of numbers": (hostile.rows_past_the_limit, "list.xlsx"),
        "slowest refusal: 1.6 million stray XML elements": (hostile.element_flood, "list.xlsx"),
    }


def reference_file() -> bytes:
    """The largest real list: 20,000 valid rows as .xlsx (people born 1930-1998, the configured districts)."""
    import hostile_uploads as hostile
    from conference.config import Defaults

    rows = []
    for i in range(20_000):
        district = Defaults.DISTRICTS[i % len(Defaults.DISTRICTS)]
        born = date(1930, 1, 1) + timedelta(days=(i * 37) % 25_000)
        rows.append([f"2021-{1 + i % 4}", district, "김이박최정"[i % 5] + "민수영희철호은정대현"[i // 5 % 10] + "지훈서연"[i // 50 % 4],
                     born, "남여"[i % 2], f"010-{1000 + i % 9000}-{i % 10000:04d}", f"경기도 동두천시 {district}로 {i}",
                     1 + i % 6, "단전;건강보험료 체납", Defaults.DISCOVERY_ROUTES[i % len(Defaults.DISCOVERY_ROUTES)], ""])
    return hostile.workbook(rows=rows)


def memory_mb() -> dict:
    """Resident memory now and its high-water mark (Linux /proc/self/status), in MB."""
    status = Path("/proc/self/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) / 1024 for key in ("VmRSS", "VmHWM")}


def child(path: str, database: str, runs: int, extra: list[str]) -> None:
    """The measured runs of one file, in a process of their own: prints a JSON line."""
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    from conference import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench-not-secret"})
    runner = app.test_cli_runner()
    startup = time.perf_counter() - started
    idle = memory_mb()["VmRSS"]
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark starts again from here
    seconds, cpu, exits = [], [], set()
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = runner.invoke(args=["import-households", path, *extra])
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        exits.add(result.exit_code)
    peak = memory_mb()["VmHWM"]
    lines = [line for line in result.output.splitlines() if line.strip()]
    print(json.dumps({"exits": sorted(exits), "seconds": seconds, "cpu": cpu, "startup": startup, "above_idle_mb": peak - idle,
                      "idle_mb": idle, "said": lines[0] if lines else repr(result.exception)},
                     ensure_ascii=False))


def measure(path: Path, database: Path, runs: int, extra: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(path), str(database), str(runs), *extra],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], int(argv[3]), argv[4:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-reference", action="store_true", help="skip the 20,000-row reference list")
    args = parser.parse_args(argv)

    from conference import create_app

    with tempfile.TemporaryDirectory(prefix="bench-limits-") as workdir:
        work = Path(workdir)
        database = work / "bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench-not-secret"})
        logging.disable(logging.WARNING)  # alembic's progress
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
        cases = {name: (build(), filename, []) for name, (build, filename) in hostile_files().items()}
        if not args.no_reference:
            cases["reference: 20,000 valid rows (--dry-run)"] = (reference_file(), "list.xlsx",
                                                                  ["--dry-run", "--duplicates", "keep"])
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.runs} runs per file in a fresh "
              "process\n")
        print("| file | size | exit | median (CPU) | slowest | start-up | peak above idle | said |")
        print("|---|---|---|---|---|---|---|---|")
        failed = []
        for name, (data, filename, extra) in cases.items():
            path = work / filename
            path.write_bytes(data)
            result = measure(path, database, args.runs, extra)
            seconds, cpu, above = result["seconds"], statistics.median(result["cpu"]), result["above_idle_mb"]
            print(f"| {name} | {len(data) / 1024:,.1f} KB | {','.join(map(str, result['exits']))} | "
                  f"{statistics.median(seconds) * 1000:,.0f} ms ({cpu * 1000:,.0f} ms) | {max(seconds) * 1000:,.0f} ms | "
                  f"{result['startup']:.2f} s | {above:,.1f} MB | {result['said'][:90]} |")
            if not extra and (result["exits"] != [1] or cpu > TARGET_SECONDS or above > TARGET_MB):
                failed.append(name)
        print(f"\nidle app: {result['idle_mb']:.0f} MB resident. Targets for hostile files: exit 1, a median under "
              f"{TARGET_SECONDS:.0f} s of CPU (wall time follows the machine's load), under {TARGET_MB} MB above idle.")
        if failed:
            print("MISSED: " + ", ".join(failed))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
