"""The one shape of the models' enums: the value stored in the database and the label people read."""
from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members are declared ``MEMBER = "stored value", _l("라벨")``; ``member.label`` reads it.

    A member may carry a second text after its label (``member.note``): what a disclosure level means, the
    official name of a meeting kind."""

    def __new__(cls, value: str, label, note=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member._label = label
        member._note = note
        return member

    @property
    def label(self):
        return self._label

    @property
    def note(self):
        return self._note
