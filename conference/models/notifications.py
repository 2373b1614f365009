"""In-app notifications to users, and what each kind says in the reader's language."""
import json
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conference.core.database import UTCDateTime
from conference.core.i18n import N_, gettext
from conference.extensions import db
from conference.models.columns import timestamp_column


#: What each kind of notification says, filled in with its ``params`` in the reader's language when shown.
NOTIFICATION_MESSAGES = {
    "input.request": N_("%(meeting)s 초대: 사례별 기관 의견을 %(deadline)s까지 제출해 주세요."),
    "input.reminder": N_("%(meeting)s: 기관 의견을 아직 제출하지 않은 사례가 있습니다. 기한 안에 제출해 주세요."),
    "minutes.review": N_("%(meeting)s 회의록 초안을 %(deadline)s까지 검토해 주세요."),
}


class Notification(db.Model):
    """An in-app message to a user: an information request, a reminder, a review request …

    ``message`` keeps the text as sent (Korean, as in the e-mail); ``params`` (JSON) fill in the kind's message
    again in the language of whoever reads it.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: A path inside the app the message points to.
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = timestamp_column()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def text(self) -> str:
        """The message in the reader's language (notifications stored before ``params`` existed: as sent)."""
        if self.params and self.kind in NOTIFICATION_MESSAGES:
            return gettext(NOTIFICATION_MESSAGES[self.kind], **json.loads(self.params))
        return self.message
