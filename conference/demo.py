"""Demo data from the 동두천시 setting of the news reports. Idempotent: adds only what is missing."""
from conference.admin import services as account_services
from conference.extensions import db
from conference.models import Agency, Role, Sector, User

DEFAULT_PASSWORD = "conference-demo"

#: name, public?, sector
AGENCIES = [
    ("동두천시 복지정책과", True, Sector.WELFARE_DIVISION),
    ("무한돌봄센터", True, Sector.CASE_MANAGEMENT_CENTRE),
    ("중앙동 행정복지센터", True, Sector.COMMUNITY_CENTRE),
    ("정신건강복지센터", True, Sector.MENTAL_HEALTH),
    ("드림스타트", True, Sector.DREAM_START),
    ("천사운동본부", False, Sector.PRIVATE),
]

#: username, name, position, agency, role
USERS = [
    ("admin", "정보관", "주무관", "동두천시 복지정책과", Role.ADMIN),
    ("coordinator", "한사례", "통합사례관리사", "무한돌봄센터", Role.COORDINATOR),
    ("chair", "윤팀장", "희망복지팀장", "동두천시 복지정책과", Role.CHAIR),
    ("mh", "서마음", "정신건강전문요원", "정신건강복지센터", Role.PRACTITIONER),
    ("dream", "조아동", "아동통합사례관리사", "드림스타트", Role.PRACTITIONER),
    ("dong", "문복지", "맞춤형복지팀 주무관", "중앙동 행정복지센터", Role.PRACTITIONER),
    ("angel", "나눔이", "사무국장", "천사운동본부", Role.PRACTITIONER),
]


def seed(password: str) -> int:
    """Create the demo agencies and accounts that do not exist yet; return how many were added."""
    added = 0
    agencies = {a.name: a for a in db.session.execute(db.select(Agency)).scalars()}
    for name, is_public, sector in AGENCIES:
        if name not in agencies:
            agencies[name] = Agency(name=name, is_public=is_public, sector=sector.value)
            db.session.add(agencies[name])
            added += 1
    db.session.flush()
    existing = set(db.session.execute(db.select(User.username)).scalars())
    for username, display_name, position, agency_name, role in USERS:
        if username in existing:
            continue
        account_services.create_user(by=None, username=username, display_name=display_name,
                                     position=position, agency_id=agencies[agency_name].id,
                                     role=role.value, password=password, must_change_password=False)
        added += 1
    return added
