"""The navigation bar: which sections each role sees. One list, filtered by the permission rules."""

from conference.core.i18n import lazy_gettext as _l
from conference.shared import permissions

#: (endpoint, label, rule deciding who sees it)
SECTIONS = [
    ("main.home", _l("홈"), lambda user: True),
    ("cases.index", _l("사례"), permissions.is_case_staff),
    ("meetings.index", _l("회의"), permissions.reads_case_data),
    ("actions.index", _l("실행과제"), permissions.reads_case_data),
    ("dashboard.index", _l("현황"), permissions.reads_case_data),
    ("admin.agencies", _l("기관 관리"), permissions.can_manage_accounts),
    ("admin.users", _l("사용자 관리"), permissions.can_manage_accounts),
    ("audit.log", _l("감사 기록"), permissions.can_read_audit),
    ("audit.review", _l("접속기록 점검"), permissions.can_read_audit),
]


def sections_for(user):
    """The navigation entries ``user`` may open."""
    if not user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label, rule in SECTIONS if rule(user)]
