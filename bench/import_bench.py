"""Benchmark: importing a 5,000-row discovery list (parse + find_repeats + import_rows + commit).

Usage (from the project root):

    .venv/bin/python bench/import_bench.py                      # 1,000 registered households, 5 runs
    .venv/bin/python bench/import_bench.py --existing 50000     # a large register
    .venv/bin/python bench/import_bench.py --rows 5000 --runs 5 --repeat-share 0.02 --keep-db

What it does: applies the migrations to a fresh SQLite database in a temporary directory, fills it
with ``--existing`` registered households (bulk inserts: a household, its head and its first status
change each), and writes a CSV of ``--rows`` rows (Korean names drawn from common surnames and given
names, the configured 행정동 and discovery routes). ``--repeat-share`` of the rows repeat a registered
household (they are merged) and a few repeat an earlier row (kept). Each run starts from a copy of the
filled database and times, as the web confirm step or ``flask import-households`` would do it:
parse_extraction → find_repeats → import_rows → commit. Prints each run (wall and CPU seconds: on a
busy machine the CPU figure is the steadier one), the median and the p95 of the wall times.
Target: under 10 s per 5,000-row import.
"""
import argparse
import logging
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import insert

from conference import create_app
from conference.cases.importer import COLUMNS, parse_extraction
from conference.cases.imports import find_repeats, import_rows
from conference.cases.reading import ReadLimits
from conference.core.formatting import today_local
from conference.extensions import db
from conference.models import Household, Member, StatusChange

#: Surnames weighted roughly as in Korea (김 21%, 이 15%, 박 8% …), then the less common ones once each.
SURNAMES = (["김"] * 21 + ["이"] * 15 + ["박"] * 8 + ["최"] * 5 + ["정"] * 5
            + list("강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모"))
GIVEN = ["민준", "서준", "도윤", "예준", "시우", "하준", "지호", "주원", "지후", "준우", "서연", "서윤", "지우", "서현",
         "민서", "하은", "하윤", "윤서", "지유", "지민", "영희", "철수", "영수", "순자", "영숙", "정숙", "영자", "옥순",
         "명숙", "경숙", "성호", "영철", "상철", "정호", "광수", "동현", "은정", "미경", "현주", "대현", "민수", "은영",
         "경희", "정희", "미숙", "상훈", "성민", "재훈", "혜진", "수진"]
SIGNALS = ["단전", "단수", "단가스", "건강보험료 체납", "통신비 체납", "공동주택 관리비 체납", "금융 연체", "실직",
           "주거 위기", "의료비 과다"]
NOTES = ["", "", "", "독거", "한부모", "자녀 2명(초등)", "장애인 가구", "고령 부부"]


def make_app(path: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench-not-secret"})


def person(rng: random.Random) -> tuple[str, date]:
    born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 70))
    return rng.choice(SURNAMES) + rng.choice(GIVEN), born


def fill_register(app, count: int, rng: random.Random, districts: list, routes: list) -> list[tuple]:
    """Bulk-insert ``count`` registered households; returns their heads (name, birth, district)."""
    now = datetime.now(UTC)
    heads = []
    seq_by_year: dict[int, int] = {}
    households, members, changes = [], [], []
    for hid in range(1, count + 1):
        name, born = person(rng)
        district = rng.choice(districts)
        year = rng.choice([2019, 2020, 2021])
        seq_by_year[year] = seq_by_year.get(year, 0) + 1
        route = rng.choice(routes)
        households.append({
            "id": hid, "case_year": year, "case_seq": seq_by_year[year], "district": district,
            "address": f"경기도 동두천시 {district} {rng.randrange(1, 300)}", "phone": "",
            "household_size": rng.randrange(1, 6), "discovery_route": route,
            "discovered_on": date(year, rng.randrange(1, 13), 1), "extraction_round": "",
            "crisis_signals": ";".join(rng.sample(SIGNALS, 2)), "status": "discovered", "track": "",
            "classification": "", "closure_reason": "", "note": "", "created_at": now, "updated_at": now})
        members.append({"household_id": hid, "is_head": True, "relation": "본인", "name": name,
                        "birth_year": born.year, "birth_date": born, "sex": rng.choice("남여"),
                        "has_disability": False})
        changes.append({"household_id": hid, "from_status": "", "to_status": "discovered", "track": "",
                        "classification": "", "reason": route, "changed_at": now})
        heads.append((name, born, district))
    with app.app_context():
        for start in range(0, count, 5000):
            db.session.execute(insert(Household), households[start:start + 5000])
            db.session.execute(insert(Member), members[start:start + 5000])
            db.session.execute(insert(StatusChange), changes[start:start + 5000])
        db.session.commit()
        db.engine.dispose()
    return heads


def make_csv(rows: int, rng: random.Random, heads: list, districts: list, routes: list, extraction_route: str,
             repeat_share: float) -> bytes:
    lines = [",".join(COLUMNS)]
    written = []
    for _ in range(rows):
        roll = rng.random()
        if heads and roll < repeat_share:
            name, born, district = rng.choice(heads)  # a registered household again
        elif written and roll < repeat_share + 0.002:
            name, born, district = rng.choice(written)  # the same person twice in the list
        else:
            (name, born), district = person(rng), rng.choice(districts)
        written.append((name, born, district))
        route = extraction_route if rng.random() < 0.8 else rng.choice(routes)
        phone = "" if rng.random() < 0.2 else f"010-{rng.randrange(2000, 9999)}-{rng.randrange(0, 9999):04d}"
        lines.append(",".join([
            "2021-3", district, name, born.isoformat(), rng.choice("남여"), phone,
            f"경기도 동두천시 {district}로 {rng.randrange(1, 400)}", str(rng.randrange(1, 7)),
            ";".join(rng.sample(SIGNALS, rng.randrange(1, 4))), route, rng.choice(NOTES)]))
    return ("\n".join(lines) + "\n").encode("cp949")  # what Korean Excel writes


def one_run(template: Path, workdir: Path, data: bytes, run: int) -> tuple[float, dict]:
    path = workdir / f"run{run}.sqlite"
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    app = make_app(path)
    config = app.config
    with app.app_context():
        started, cpu_started = time.perf_counter(), time.process_time()
        parsed = parse_extraction(data, "bench.csv", districts=config["DISTRICTS"], routes=config["DISCOVERY_ROUTES"],
                                  route_aliases=config["DISCOVERY_ROUTE_ALIASES"],
                                  extraction_route=config["EXTRACTION_ROUTE"], limits=ReadLimits.from_config(config),
                                  today=today_local())
        assert parsed.ok, [str(e) for e in parsed.errors[:5]]
        parsed_at = time.perf_counter()
        repeats = find_repeats(parsed.rows)
        repeats_at = time.perf_counter()
        decisions = {n: ("merge" if r.kind == "existing" else "keep") for n, r in repeats.items()}
        result = import_rows(parsed.rows, decisions, by=None, discovered_on=date(2021, 9, 1), filename="bench.csv",
                             actor_name="bench")
        imported_at = time.perf_counter()
        db.session.commit()
        finished = time.perf_counter()
        phases = {"cpu": time.process_time() - cpu_started, "parse": parsed_at - started, "find_repeats": repeats_at - parsed_at,
                  "import_rows": imported_at - repeats_at, "commit": finished - imported_at,
                  "created": len(result.created), "merged_rows": sum(1 for r in repeats.values() if r.kind == "existing"),
                  "repeats": len(repeats)}
        db.session.remove()
        db.engine.dispose()
    path.unlink()
    return finished - started, phases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--existing", type=int, default=1000, help="registered households before the import")
    parser.add_argument("--rows", type=int, default=5000, help="rows in the imported list")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat-share", type=float, default=0.02,
                        help="share of rows that repeat a registered household")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--keep-db", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # alembic's migration chatter

    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    template = workdir / "template.sqlite"
    try:
        app = make_app(template)
        config = app.config
        with app.app_context():
            upgrade()
            db.engine.dispose()
        filled_at = time.perf_counter()
        heads = fill_register(app, args.existing, rng, config["DISTRICTS"], config["DISCOVERY_ROUTES"])
        print(f"register: {args.existing:,} households in {time.perf_counter() - filled_at:.1f} s ({template})")
        data = make_csv(args.rows, rng, heads, config["DISTRICTS"], config["DISCOVERY_ROUTES"],
                        config["EXTRACTION_ROUTE"], args.repeat_share)
        print(f"list: {args.rows:,} rows, {len(data) / 1024:.0f} KB CP949 CSV")
        totals = []
        for run in range(1, args.runs + 1):
            total, phases = one_run(template, workdir, data, run)
            totals.append(total)
            print(f"run {run}: {total:.2f} s, cpu {phases['cpu']:.2f} s  (parse {phases['parse']:.2f}, find_repeats {phases['find_repeats']:.2f}, "
                  f"import_rows {phases['import_rows']:.2f}, commit {phases['commit']:.2f}; "
                  f"created {phases['created']}, repeats {phases['repeats']}, of which registered "
                  f"{phases['merged_rows']})")
        ordered = sorted(totals)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"median {statistics.median(totals):.2f} s, p95 {p95:.2f} s over {len(totals)} runs "
              f"(target < 10 s)")
    finally:
        if args.keep_db:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
