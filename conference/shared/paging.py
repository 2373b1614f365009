"""Paging of long lists: one page of rows and a total counted only up to a cap."""
from dataclasses import dataclass

from sqlalchemy import func, select

from conference.extensions import db


class CappedCount(int):
    """A count read only up to a cap: a number like any other, shown as "99+" when the cap was reached."""

    capped: bool = False

    @classmethod
    def of(cls, counted: int, cap: int) -> "CappedCount":
        """``counted`` from a query limited to ``cap + 1`` rows."""
        count = cls(min(counted, cap))
        count.capped = counted > cap
        return count

    def __str__(self) -> str:
        return f"{int(self)}+" if self.capped else str(int(self))


@dataclass
class Page:
    """One page of a list whose total is counted only up to ``cap`` (counting 50,000 rows costs more than the page)."""

    items: list
    page: int
    per_page: int
    total: int
    capped: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total or (self.capped and len(self.items) == self.per_page)

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def pages(self) -> int | None:
        """The number of pages, unknown (None) when the count was capped."""
        return None if self.capped else max(1, -(-self.total // self.per_page))


def paginate(query, *, page: int, per_page: int, cap: int = 1000, count_query=None, rows=None) -> Page:
    """Fetch one page and count the matches up to ``cap`` more than the rows before this page.

    ``count_query`` selects the same rows more cheaply (no eager loads or ordering); by default the page query.
    ``rows`` turns the page's ids into its items (``case_rows``); by default the items are the query's first column.
    """
    count_query = count_query if count_query is not None else query.order_by(None)
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).unique().scalars().all()
    if rows is not None:
        items = rows(items)
    limit = (page - 1) * per_page + cap + 1
    counted = db.session.execute(
        select(func.count()).select_from(count_query.limit(limit).subquery())).scalar_one()
    return Page(items=items, page=page, per_page=per_page, total=min(counted, limit - 1), capped=counted >= limit)


def paginate_ids(query, *, page: int, per_page: int, cap: int, rows) -> Page:
    """One page and its capped count from a single read of ``query``'s ids in order, for a list whose count is as
    dear per row as its page (each match checked against consent): counting apart read the page's rows twice.

    ``rows`` turns the page's ids into its items. A page deep in the list reads the ids before it, as an offset does.
    """
    before = (page - 1) * per_page
    limit = before + cap + 1
    ids = db.session.execute(query.limit(limit)).scalars().all()
    return Page(items=rows(ids[before:before + per_page]), page=page, per_page=per_page,
                total=min(len(ids), limit - 1), capped=len(ids) >= limit)
