"""Throughput of the pages people wait on, as a ratio to the app's hello-world route, under ``gunicorn -w 2``.

    .venv/bin/python bench/throughput.py --database-url sqlite:////tmp/bench50000.sqlite --seconds 8

The database must hold the demo accounts and generated data (``flask seed-demo --households N``). The script starts
gunicorn on a free loopback port twice: once as deployed (kept pages on, conference/shared/pagecache.py) and once
with every view rendered (``CONFERENCE_PAGE_CACHE_SIZE=0``). On each it runs ``wrk -t2 -c8`` against the hello-world
route (/healthz, no cookie) and the case file, the meeting page and the minutes page (as the coordinator) and an
agency's packet (as the practitioner 'mh', after the confidentiality pledge), in rounds taking turns so that a slow
spell of this shared machine falls on the hello-world route as on the pages. Each page's ratio is its requests per
second over the hello-world route's on the same server. Case-file views must each write their access-log row.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402

from bench.common import HOST, free_port  # noqa: E402
from conference import create_app  # noqa: E402
from conference.extensions import db  # noqa: E402
from conference.models import AuditEvent  # noqa: E402
from conference.seed import demo  # noqa: E402

#: Targets of the performance issue: every view rendered, and kept pages (as deployed).
RENDERED_TARGET, KEPT_TARGET = 0.10, 0.25
RENDERED = ", every view rendered"
#: wrk and the login send the same User-Agent: a login is bound to its browser (conference/auth/sessions.py).
USER_AGENT = "conference-bench"


@dataclass
class Measured:
    """One URL's wrk runs summed over the rounds."""
    seconds: float = 0.0
    requests: int = 0
    errors: int = 0
    logged: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _form_token(html: str) -> str:
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) \
        or re.search(r'name="csrf_token" value="([^"]+)"', html)
    return token.group(1) if token else ""


def signed_in_cookie(base: str, username: str, *, pledge_meeting: int | None = None) -> str:
    """Log in through the real form (CSRF on), pledge confidentiality for ``pledge_meeting`` if given, and return
    the Cookie header value."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    token = _form_token(opener.open(base + "/login", timeout=10).read().decode())
    data = {"username": username, "password": demo.DEFAULT_PASSWORD, "csrf_token": token}
    opener.open(base + "/login", urllib.parse.urlencode(data).encode(), timeout=10).read()
    if pledge_meeting is not None:
        url = f"{base}/meetings/{pledge_meeting}/pledge"
        token = _form_token(opener.open(url, timeout=10).read().decode())
        opener.open(url, urllib.parse.urlencode({"accept": "y", "csrf_token": token}).encode(), timeout=10).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, cookie: str, seconds: int) -> tuple[float, int, int]:
    """Seconds spent, requests and non-2xx/3xx responses of one wrk run (2 threads, 8 connections)."""
    headers = ["-H", f"User-Agent: {USER_AGENT}"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    output = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", *headers, url],  # nosec B603 B607  # fixed argv
                            capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return total / rate if rate else float(seconds), total, int(errors.group(1)) if errors else 0


def case_file_views(database_url: str) -> int:
    """Access-log rows of case-file views so far."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count(AuditEvent.id))
                                      .where(AuditEvent.action == "household.view")).scalar()
    finally:
        engine.dispose()


def answers_itself(urls: dict[str, tuple[str, str]]) -> None:
    """Every URL answers 200 itself (not a redirect to the login or the pledge) with its cookie."""
    for url, cookie in urls.values():
        headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),  # nosec B310  # loopback http
                                    timeout=30) as response:
            if response.status != 200 or response.url != url:
                raise SystemExit(f"{url} answered {response.status} at {response.url}")


@contextmanager
def pages_served(database_url: str, ids: dict, *, rendered: bool) -> Iterator[dict[str, tuple[str, str]]]:
    """gunicorn -w 2 on the database (every view rendered if ``rendered``, else as deployed), and the hello-world
    route and the four pages on it with the cookie of who reads each: {name: (url, cookie)}. Stopped on the way out."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-" + os.urandom(8).hex()}
    if rendered:
        env["CONFERENCE_PAGE_CACHE_SIZE"] = "0"
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "2",  # nosec B603
                               "--bind", f"{HOST}:{port}", "app:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # nosec B310  # loopback http
                break
            except OSError:
                time.sleep(0.2)
        coordinator = signed_in_cookie(base, "coordinator")
        practitioner = signed_in_cookie(base, "mh", pledge_meeting=ids["upcoming"])
        label = RENDERED if rendered else ""
        yield {"hello-world (/healthz)": (base + "/healthz", ""),
               f"case file{label}": (f"{base}/cases/{ids['household']}", coordinator),
               f"meeting page{label}": (f"{base}/meetings/{ids['finalised']}", coordinator),
               f"minutes page{label}": (f"{base}/meetings/{ids['finalised']}/minutes", coordinator),
               f"packet (practitioner){label}": (f"{base}/meetings/{ids['upcoming']}/packet", practitioner)}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def serve(database_url: str, ids: dict, *, seconds: int, rounds: int, rendered: bool) -> dict[str, Measured]:
    """Measure the hello-world route and the four pages on a server of their own (``pages_served``)."""
    with pages_served(database_url, ids, rendered=rendered) as urls:
        answers_itself(urls)
        measured = {name: Measured() for name in urls}
        for _ in range(rounds):
            for name, (url, cookie) in urls.items():
                before = case_file_views(database_url) if name.startswith("case file") else 0
                spent, total, errors = wrk(url, cookie, seconds)
                entry = measured[name]
                entry.seconds += spent
                entry.requests += total
                entry.errors += errors
                if name.startswith("case file"):
                    entry.logged += case_file_views(database_url) - before
        answers_itself(urls)  # wrk counts a redirect to the login page as success: the logins must still hold
        return measured


def measure(database_url: str, ids: dict, *, seconds: int = 4, rounds: int = 2) -> list[tuple[str, Measured, float]]:
    """(name, measured, ratio to the hello-world route of its own server) for kept pages, then every view rendered."""
    results = []
    for rendered in (False, True):
        measured = serve(database_url, ids, seconds=seconds, rounds=rounds, rendered=rendered)
        hello = measured.pop("hello-world (/healthz)")
        if not rendered:
            results.append(("hello-world (/healthz)", hello, 1.0))
        results += [(name, entry, entry.rate / hello.rate) for name, entry in measured.items()]
    return results


def table(results: list[tuple[str, Measured, float]]) -> list[str]:
    lines = [f"| URL | requests/s | ratio to hello-world (≥ {KEPT_TARGET} kept, ≥ {RENDERED_TARGET} rendered) "
             "| requests | non-2xx | access-log rows written |", "|---|---|---|---|---|---|"]
    for name, entry, ratio in results:
        target = RENDERED_TARGET if name.endswith(RENDERED) else KEPT_TARGET
        flag = "" if ratio >= target or name.startswith("hello") else " ✗"
        rows = f"{entry.logged} of {entry.requests}{'' if entry.logged >= entry.requests else ' ✗'}" \
            if name.startswith("case file") else "—"
        lines.append(f"| {name} | {entry.rate:.0f} | {ratio:.2f}{flag} | {entry.requests} | {entry.errors} | {rows} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per URL and round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from bench.run import targets
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "SECRET_KEY": "bench", "TESTING": True})
    ids = targets(app)
    with app.app_context():
        db.engine.dispose()
    print("\n".join(table(measure(args.database_url, ids, seconds=args.seconds, rounds=args.rounds))))


if __name__ == "__main__":
    main()
