"""Column shapes the tables repeat: the key to the row a row belongs to, and a time that defaults to now."""
from sqlalchemy import ForeignKey
from sqlalchemy.orm import mapped_column

from conference.core.database import UTCDateTime, now_utc


def parent_key(table: str, *, unique: bool = False):
    """The id of the ``table`` row this row belongs to and is deleted with (ON DELETE CASCADE); indexed, or unique
    where the parent has at most one such row."""
    key = ForeignKey(f"{table}.id", ondelete="CASCADE")
    return mapped_column(key, unique=True) if unique else mapped_column(key, index=True)


def timestamp_column(**kwargs):
    """A UTC time, the moment the row is inserted unless set."""
    return mapped_column(UTCDateTime, default=now_utc, **kwargs)
