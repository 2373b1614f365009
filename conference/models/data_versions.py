"""Counters that tell what a process computed earlier (dashboard figures, rendered pages) that it is stale."""
from sqlalchemy.orm import Mapped, mapped_column

from conference.extensions import db


class DataVersion(db.Model):
    """One row per counter; its number goes up in every transaction that changes what the counter watches.

    Raised by ``conference.shared.freshness`` (ORM flushes and bulk statements alike); what was computed at one
    number stays valid until it moves. Row ids are ``freshness.FIGURES`` and ``freshness.PAGES``.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
