"""Configuration defaults; ``create_app`` layers instance/config.py and the environment on top."""
from datetime import timedelta

#: The placeholder key; the app refuses to start with it outside debug, demo or test mode.
DEV_SECRET_KEY = "dev-only-not-secret"


class Defaults:
    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in create_app: instance/conference.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (CONFERENCE_SESSION_COOKIE_SECURE)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    BABEL_TRANSLATION_DIRECTORIES = "../translations"
    LANGUAGES = {"ko": "한국어", "en": "English"}

    #: Allows the placeholder SECRET_KEY (local demo only).
    DEMO = False
    #: Minutes of inactivity after which a session ends.
    IDLE_TIMEOUT_MINUTES = 30
    #: Failed logins in a row that lock a username, and for how long.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    PASSWORD_MIN_LENGTH = 10
    #: argon2id cost (argon2-cffi's defaults, ≈130 ms a hash here); tests lower it for speed.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    #: Font used for East Asian text in Word documents.
    DOCX_FONT = "맑은 고딕"
    #: Author written into documents made from the command line.
    DOCUMENT_AUTHOR = "통합사례관리 담당"

    # --- Case register lists (configurable per city; values are stored as written) ---
    #: 발굴 경로
    DISCOVERY_ROUTES = ["복지사각지대 발굴시스템", "찾아가는 복지상담", "이웃·주민 제보", "기관 의뢰", "본인 신청"]
    #: Other spellings found in lists, read as the configured route they mean.
    DISCOVERY_ROUTE_ALIASES = {"이웃 제보": "이웃·주민 제보", "주민 제보": "이웃·주민 제보", "기관의뢰": "기관 의뢰",
                               "본인신청": "본인 신청", "찾아가는 상담": "찾아가는 복지상담"}
    #: The route whose rows must carry an extraction round (추출회차).
    EXTRACTION_ROUTE = "복지사각지대 발굴시스템"
    #: 행정동 of the city
    DISTRICTS = ["생연1동", "생연2동", "송내동", "중앙동", "보산동", "불현동", "소요동", "상패동"]
    #: 사례 구분 (classification)
    CLASSIFICATIONS = ["일반", "고난도", "집중"]
    #: 욕구 및 위기도 rating scale, most severe first.
    ASSESSMENT_SCALE = ["위기", "취약", "적정"]
    #: 종결 사유
    CLOSURE_REASONS = ["목표 달성", "대상자 거부·요청", "사망", "전출", "연락두절", "타기관 이관", "장기입원·입소"]
    #: Largest discovery-list upload accepted.
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    CASE_LIST_PAGE_SIZE = 50
    #: Working days before a meeting by which agencies are asked for their information.
    INPUT_DEADLINE_WORKING_DAYS = 3
