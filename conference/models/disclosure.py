"""Disclosure levels (공개 범위) of free text: chosen by whoever writes it, kept with the text."""

from sqlalchemy import String
from sqlalchemy.orm import mapped_column

from conference.core.i18n import lazy_gettext as _l
from conference.models.labels import LabelledEnum


class Disclosure(LabelledEnum):
    """Who may read a piece of free text, from the widest to the narrowest."""

    SHARED = "shared", _l("참석기관 공유"), _l("정보제공 동의 범위 안의 참석기관이 모두 읽습니다.")
    SENSITIVE = "sensitive", _l("민감정보"), _l("건강·정신건강 등 민감정보까지 동의한 기관만 읽습니다.")
    INTERNAL = "internal", _l("시 내부"), _l("시 담당자와 회의 주재자만 읽습니다.")

    @property
    def help(self):
        """What the level means, for the writer choosing it."""
        return self.note


def disclosure_column(**kwargs):
    """A column holding the Disclosure value of the text beside it (참석기관 공유 unless set)."""
    return mapped_column(String(20), default=Disclosure.SHARED.value, server_default=Disclosure.SHARED.value,
                         **kwargs)
