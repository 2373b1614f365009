"""Rules the test suite keeps so that it passes whenever it runs.

A run may cross midnight in Seoul (the city's day turns at 15:00 UTC). A date read when pytest collects (a module
constant, a parametrised value, a default argument) is yesterday's by the time the test posts it, and "tomorrow"
is accepted as today. Tests read the city's day when they run: ``today_local()`` in the body, or ``CityDay`` /
``CityYear`` in a parametrised value, written out with ``on_the_day``.
"""
import ast
from pathlib import Path

import pytest

from factories import CityDay, CityYear, on_the_day

TESTS = Path(__file__).resolve().parent
#: Calls that read the clock.
CLOCK = {"today_local", "date.today", "datetime.now", "datetime.utcnow", "time.time"}
#: Read at collection on purpose: a day months ahead, in the future whichever day the run ends on.
COLLECTED_ON_PURPOSE = {"MEETING_DAY = first_monday_of_march(today_local().year + 1)"}


def clock_reads_at_collection(source: str) -> list[int]:
    """Lines that read the clock outside a function body: at import, in a decorator or a default argument."""
    found = []

    def visit(node: ast.AST, in_body: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for outside in (*node.decorator_list, *node.args.defaults, *node.args.kw_defaults):
                if outside is not None:
                    visit(outside, in_body)
            for statement in node.body:
                visit(statement, True)
            return
        if isinstance(node, ast.Lambda):
            visit(node.body, True)
            return
        if isinstance(node, ast.Call) and not in_body and ast.unparse(node.func) in CLOCK:
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_body)

    lines = source.splitlines()
    visit(ast.parse(source), False)
    return [n for n in found if lines[n - 1].strip() not in COLLECTED_ON_PURPOSE]


def test_no_test_reads_the_clock_when_it_is_collected():
    offenders = {path.relative_to(TESTS).as_posix(): lines for path in sorted(TESTS.rglob("*.py"))
                 if (lines := clock_reads_at_collection(path.read_text(encoding="utf-8")))}
    assert offenders == {}, "read the city's day when the test runs (today_local() in the body, or CityDay)"


def test_the_rule_finds_a_constant_a_parametrised_value_and_a_default_but_not_a_body():
    source = '''
TODAY = today_local()

@pytest.mark.parametrize("day", [date.today()])
def test_one(day, when=datetime.now(UTC)):
    return today_local(), (lambda: time.time())

MEETING_DAY = first_monday_of_march(today_local().year + 1)
START = time(14, 0)
'''
    assert clock_reads_at_collection(source) == [2, 4, 5]


@pytest.mark.usefixtures("after_midnight_in_seoul")
def test_a_city_day_is_read_when_it_is_written_out():
    assert repr(CityDay(1)) == "today+1" and repr(CityDay(0)) == "today" and repr(CityYear(1)) == "this year+1"
    assert on_the_day({"checked_on": CityDay(1), "content": "방문", "birth": CityYear(1)}) == {
        "checked_on": "2026-11-26", "content": "방문", "birth": "2027"}
