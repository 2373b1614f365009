"""Record ids from URLs and forms: only numbers an id column can hold ever reach the database.

A larger number (``/cases/99999999999999999999``) names no record, but passed on it would fail inside the
database driver (SQLite: OverflowError; PostgreSQL: integer out of range) and answer 500 instead of 404.
"""
from werkzeug.routing import IntegerConverter

#: The largest id an id column holds (PostgreSQL ``integer``, the narrower of the two databases).
MAX_ID = 2 ** 31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in a route: a number above ``MAX_ID`` matches no route, so the answer is 404."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def record_id(value) -> int:
    """An id read from a form or query string: 1…MAX_ID, else ValueError.

    Use it as werkzeug's ``type``: ``request.values.get("household_id", type=record_id)`` gives None for
    anything else, and ``getlist(…, type=record_id)`` leaves such values out.
    """
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError(f"not a record id: {value!r}")
    return number
