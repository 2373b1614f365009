"""Configuration defaults; ``create_app`` layers instance/config.py and the environment on top."""
from datetime import timedelta

#: The placeholder key; the app refuses to start with it outside debug, demo or test mode.
DEV_SECRET_KEY = "dev-only-not-secret"  # nosec B105  # a known placeholder that load_config refuses in production


class Defaults:
    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in create_app: instance/conference.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted
    #: (CONFERENCE_TRUSTED_PROXIES=1 behind nginx); 0 ignores those headers.
    TRUSTED_PROXIES = 0
    SESSION_COOKIE_SECURE = False  # set True behind HTTPS (CONFERENCE_SESSION_COOKIE_SECURE)
    #: Absolute lifetime of a login, however active the user is: checked on the server from the login's row
    #: (login_session.logged_in_at), and the cookie's own expiry.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    #: The cookie is sent again only when the session changed, not signed anew on every page: the last-seen time
    #: and the lifetime are kept and checked on the server.
    SESSION_REFRESH_EACH_REQUEST = False
    # Remember-me is not offered; should Flask-Login ever write its cookie, it gets the same flags
    # (REMEMBER_COOKIE_SECURE follows SESSION_COOKIE_SECURE unless set itself; see load_config).
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(hours=8)
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    BABEL_TRANSLATION_DIRECTORIES = "../translations"
    LANGUAGES = {"ko": "한국어", "en": "English"}

    #: Allows the placeholder SECRET_KEY (local demo only).
    DEMO = False
    #: Minutes of inactivity after which a session ends (counted on the server from the login's last request).
    IDLE_TIMEOUT_MINUTES = 30
    #: Failed logins (or second steps, or password re-checks) for one username from one client address that lock
    #: that username at that address, and for how long; failures further apart than the lock's minutes start the
    #: count again. An outsider locks only their own address: the account's owner still logs in from theirs.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    #: Failures for one username from all addresses together that lock the username everywhere (guessing spread
    #: over many addresses), for how long, and how far apart failures may be to keep counting: about 50 an hour.
    #: A successful login does not reset this count.
    LOGIN_USERNAME_MAX_FAILURES = 50
    LOGIN_USERNAME_LOCK_MINUTES = 60
    LOGIN_USERNAME_WINDOW_MINUTES = 60
    PASSWORD_MIN_LENGTH = 10
    #: Admins without two-factor login must enrol before they can do anything else. Switching it off is possible
    #: (CONFERENCE_TWO_FACTOR_REQUIRED_FOR_ADMINS=0) and puts a warning on every admin's home page.
    TWO_FACTOR_REQUIRED_FOR_ADMINS = True
    #: Issuer shown in authenticator apps next to the username.
    TWO_FACTOR_ISSUER = "통합사례회의"
    #: Minutes a correct password waits for the second step before the login starts over.
    TWO_FACTOR_PENDING_MINUTES = 5
    #: argon2id cost (argon2-cffi's defaults, ≈130 ms a hash here); tests lower it for speed.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_KIB = 65536
    #: Days the audit trail (접속기록) is kept before `flask purge-audit` deletes it: at least 2 years
    #: for systems with sensitive data (개인정보의 안전성 확보조치 기준).
    AUDIT_RETENTION_DAYS = 730
    #: Days changes of access rights (user.* events) are kept: at least 3 years.
    AUDIT_RIGHTS_RETENTION_DAYS = 1095
    #: Monthly review: working hours in Korean time (from, until); other hours and weekends are flagged.
    AUDIT_WORKING_HOURS = (8, 20)
    #: Monthly review: an account is flagged above this many views of personal data in the month …
    AUDIT_REVIEW_VIEW_THRESHOLD = 300
    #: … or above this multiple of the median account's views.
    AUDIT_REVIEW_MEDIAN_MULTIPLE = 3
    #: Monthly review: an account refused (403/404) on cases, meetings or actions more than this many times in the
    #: month is listed first and flagged. A stale link or a lost invitation gives a few; trying ids, hundreds.
    AUDIT_REVIEW_DENIED_THRESHOLD = 30
    #: Most events one audit export may hold.
    AUDIT_EXPORT_MAX_ROWS = 50_000
    #: The font of the Word and 한글 files (e.g. "맑은 고딕", or "함초롬바탕" / "함초롬돋움" as many city offices use).
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
    # --- Discovery-list upload (web and `flask import-households`): how much of a file is read. ---
    # The list has 11 columns and a quarter's extraction holds at most tens of thousands of households; a 20,000-row
    # list is about 1.2 MB as .xlsx (16 MB unpacked) or 2.5 MB as CSV. Reading stops at the first limit passed, with
    # a message naming it (conference/cases/reading.py): a hostile file costs no more than the largest real one.
    #: Largest file accepted, as uploaded.
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    #: Most data rows (rows with a value under the header).
    IMPORT_MAX_ROWS = 20_000
    #: Highest row number read, empty rows included (a sheet's row index, a CSV's record number): room for
    #: IMPORT_MAX_ROWS, the header and a few thousand empty rows. Reading stops at the first row past it.
    IMPORT_MAX_ROW_NUMBER = 25_000
    #: Most cells in one row, and the rightmost column of a sheet (the form has 11 columns).
    IMPORT_MAX_COLUMNS = 50
    #: Most cells in the file, empty formatted cells of a sheet included (20,001 rows × 11 columns = 220,011), and
    #: most entries in an .xlsx's shared-string table. The parts of an .xlsx read may hold 5 XML elements per cell.
    IMPORT_MAX_CELLS = 300_000
    #: .xlsx: most sheets in the workbook. Only the first worksheet is read (others are named in a warning); a
    #: workbook with more sheets than this is refused rather than read in part: it is likely a list split over sheets
    #: (one per 행정동), and importing only its first sheet would silently leave out the rest.
    IMPORT_XLSX_MAX_SHEETS = 5
    #: .xlsx: most parts (files) in the zip package; Excel writes about 10.
    IMPORT_XLSX_MAX_PARTS = 100
    #: .xlsx: largest unpacked size one part may declare, and all parts together (checked before unpacking; a part
    #: is never unpacked beyond what it declares).
    IMPORT_XLSX_MAX_PART_BYTES = 32 * 1024 * 1024
    IMPORT_XLSX_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
    #: .xlsx: most a part of 1 MB or more may shrink when packed. Spreadsheet XML packs 5–20 : 1, zip bombs 1000 : 1.
    IMPORT_XLSX_MAX_RATIO = 100
    MEETING_LIST_PAGE_SIZE = 30
    CASE_LIST_PAGE_SIZE = 50
    #: Rendered case files and meeting pages each worker keeps until data changes (conference/shared/pagecache.py);
    #: 0 turns the cache off. Kept pages expire after PAGE_CACHE_SECONDS (well inside the CSRF token's hour).
    PAGE_CACHE_SIZE = 128
    PAGE_CACHE_SECONDS = 300
    #: Working days before a meeting by which agencies are asked for their information.
    INPUT_DEADLINE_WORKING_DAYS = 3
