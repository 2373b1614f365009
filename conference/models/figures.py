"""The counter that tells cached dashboard figures they are stale."""
from sqlalchemy.orm import Mapped, mapped_column

from conference.extensions import db


class FiguresVersion(db.Model):
    """One row whose number goes up in every transaction that changes what the dashboard counts.

    Raised by ``conference.dashboard.freshness`` (ORM flushes and bulk statements alike); figures computed
    at one number stay valid until it moves.
    """

    __tablename__ = "figures_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
