"""The one shape of the models' enums: the value stored in the database and the label people read."""
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members are declared ``MEMBER = "stored value", _l("라벨")``; ``member.label`` reads it."""

    def __new__(cls, value: str, label):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        return member

    @property
    def label(self):
        return self._label
