"""Browser tests: Debian's chromium driven by Playwright against the app served on loopback.

Never run `playwright install`: the tests use /usr/bin/chromium (apt-get install chromium fonts-nanum).
"""
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import POSTGRES_URL, _empty_postgres, make_app  # tests/conftest.py
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from conference.extensions import db
from conference.seed import demo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
TRANSLATIONS = ROOT / "translations"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e carries the `browser` marker (deselect with -m "not browser")."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def compile_translations():
    """Compile .po → .mo where the .mo is missing or older (`make test` does this with pybabel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        tmp = mo.with_suffix(f".mo.{os.getpid()}")
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)
        tmp.replace(mo)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Debian chromium not installed: apt-get install chromium fonts-nanum"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{CHROMIUM} is missing on CI. {message}", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def served_demo(database_uri, seed=lambda: demo.seed(demo.DEFAULT_PASSWORD)):
    """The app with CSRF on and the demo data (``seed()``), served on 127.0.0.1 at a port the OS picks: yields the
    app and its base URL."""
    compile_translations()
    app = make_app(database_uri, WTF_CSRF_ENABLED=True)
    with app.app_context():
        seed()
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            if POSTGRES_URL:
                _empty_postgres()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def live_server(database_uri):
    """The demo city served on loopback (``served_demo``): its base URL."""
    with served_demo(database_uri) as (_app, base):
        yield base


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        try:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
        except (OSError, PlaywrightError) as error:  # a nicety: never hide the real failure
            print(f"could not save a failure screenshot: {error}")
    context.close()
