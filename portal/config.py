"""Settings from the environment, with safe defaults (SQLite and Whoosh under instance/)."""
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    path = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else generated once into instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _normalise_db_url(url: str) -> str:
    # Heroku-style URLs and plain postgresql:// use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load_config(overrides: dict | None = None) -> dict:
    instance = _instance_dir()
    env = os.environ.get
    config = {
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(env("DATABASE_URL", f"sqlite:///{instance / 'portal.db'}")),
        # The public site may read snapshots from its own database; by default the same one.
        "PUBLIC_DATABASE_URL": _normalise_db_url(env("PUBLIC_DATABASE_URL", "")) or None,
        # A public host whose database subscribes to the portal's (logical replication): no
        # migrations there, readiness checks the subscription, the index follows pub_index_log.
        "PUBLIC_REPLICA": env("PUBLIC_REPLICA", "0") == "1",
        "SEARCH_INDEX_DIR": env("SEARCH_INDEX_DIR", str(instance / "search-index")),
        "SEARCH_INDEX_MEMORY_MB": int(env("SEARCH_INDEX_MEMORY_MB", "512")),  # per indexing process
        "SEARCH_WRITER_TIMEOUT": float(env("SEARCH_WRITER_TIMEOUT", "30")),  # seconds to wait for the index writer
        # The portal's own search index (letters, problems, projects …); default INSTANCE_DIR/portal-index.
        # PORTAL_INDEX_LIVE=0 leaves it to `flask search-portal rebuild` (the tests turn it on where they need it).
        "PORTAL_INDEX_DIR": env("PORTAL_INDEX_DIR", ""),
        "PORTAL_INDEX_LIVE": env("PORTAL_INDEX_LIVE", "1") == "1",
        "UPLOAD_DIR": env("UPLOAD_DIR", str(instance / "uploads")),
        "MAX_UPLOAD_MB": int(env("MAX_UPLOAD_MB", "20")),
        "MAIL_SERVER": env("MAIL_SERVER", ""),
        "MAIL_PORT": int(env("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env("MAIL_USE_TLS", "0") == "1",
        "MAIL_USERNAME": env("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env("MAIL_PASSWORD", ""),
        "MAIL_FROM": env("MAIL_FROM", "noreply@jixiao.example.gov.cn"),
        "MAIL_TIMEOUT": float(env("MAIL_TIMEOUT", "10")),  # seconds per SMTP step
        # The job runner (huey): a SQLite file under instance/, or redis://… in production.
        "JOBS_URL": env("JOBS_URL", f"sqlite:///{instance / 'jobs.db'}"),
        "JOBS_IMMEDIATE": env("JOBS_IMMEDIATE", "0") == "1",  # run jobs in the caller (tests)
        # API rate limits (portal/core/ratelimit.py, docs/api.md): per token, else per address.
        "API_RATE_LIMIT": env("API_RATE_LIMIT", "120 per minute"),
        "PUBLIC_API_RATE_LIMIT": env("PUBLIC_API_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),  # redis://127.0.0.1:6379/1 in production
        "RATELIMIT_ENABLED": env("RATELIMIT_ENABLED", "1") == "1",
        "OUTBOX_RUN_SECONDS": float(env("OUTBOX_RUN_SECONDS", "120")),  # one drain's time budget
        # The audit log's seal: a key outside the database (else generated into instance/audit_key).
        "AUDIT_KEY": env("AUDIT_KEY", ""),
        "AUDIT_CHECKPOINT_FILE": env("AUDIT_CHECKPOINT_FILE", ""),  # default: INSTANCE_DIR/audit-checkpoints.jsonl
        # Where the portal is reached; links in notifications, emails and reminders start here.
        "PORTAL_BASE_URL": env("PORTAL_BASE_URL", "http://127.0.0.1:5000/portal/"),
        "SITE_NAME": env("SITE_NAME", "临州市预算绩效信息公开"),
        "PORTAL_NAME": env("PORTAL_NAME", "财审协同绩效监督平台"),
        # 市级 or 省级: at province scale the work assessment's departments are 省直部门 (portal/core/roles.py)
        "JURISDICTION_LEVEL": env("JURISDICTION_LEVEL", "city"),  # city | province
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "HSTS_MAX_AGE": int(env("HSTS_MAX_AGE", "31536000")),  # sent when SESSION_COOKIE_SECURE=1
        # 三权分立: one account never holds two of the three administrators' roles unless allowed
        "ALLOW_COMBINED_ADMIN_DUTIES": env("ALLOW_COMBINED_ADMIN_DUTIES", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Sessions and login (docs/security.md "Sessions and login").
        "SESSION_IDLE_MINUTES": int(env("SESSION_IDLE_MINUTES", "30")),
        "SESSION_LIFETIME_HOURS": float(env("SESSION_LIFETIME_HOURS", "12")),  # absolute, per session
        "REMEMBER_DAYS": int(env("REMEMBER_DAYS", "7")),  # 0: no remember-me
        "LOGIN_FREE_FAILURES": int(env("LOGIN_FREE_FAILURES", "5")),  # per username + address
        "LOGIN_ADDRESS_FREE_FAILURES": int(env("LOGIN_ADDRESS_FREE_FAILURES", "20")),  # per address
        "LOGIN_ACCOUNT_FREE_FAILURES": int(env("LOGIN_ACCOUNT_FREE_FAILURES", "100")),  # per username
        "LOGIN_MAX_DELAY_SECONDS": int(env("LOGIN_MAX_DELAY_SECONDS", "900")),
        "LOGIN_ACCOUNT_MAX_DELAY_SECONDS": int(env("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", "30")),
        "LOGIN_FAILURE_WINDOW_HOURS": int(env("LOGIN_FAILURE_WINDOW_HOURS", "24")),  # counts restart after
        "PASSWORD_MIN_LENGTH": int(env("PASSWORD_MIN_LENGTH", "8")),
        "PASSWORD_MIN_SCORE": int(env("PASSWORD_MIN_SCORE", "3")),  # zxcvbn 0–4
        "PASSWORD_MAX_AGE_DAYS": int(env("PASSWORD_MAX_AGE_DAYS", "90")),  # 0: never expires
        "PASSWORD_HISTORY": int(env("PASSWORD_HISTORY", "5")),  # no reuse of the last N
        # roles, or "all", or "": by default the three administrators (三权分立) and the signers
        "TOTP_REQUIRED_FOR": env("TOTP_REQUIRED_FOR", "admin,security_admin,audit_admin,signer"),
        # The key the TOTP secrets are encrypted under (else generated into instance/totp_key);
        # several, comma-separated: the first encrypts, all decrypt (portal/accounts/encryption.py).
        "TOTP_KEY": env("TOTP_KEY", ""),
        "TOTP_ISSUER": env("TOTP_ISSUER", "财审协同绩效监督平台"),
        "PAGE_SIZE": 20,
        # Operations (portal/core/telemetry.py): logs, metrics, errors, readiness thresholds.
        "LOG_FORMAT": env("LOG_FORMAT", "json"),  # json | text
        "LOG_LEVEL": env("LOG_LEVEL", "INFO"),
        "METRICS_TOKEN": env("METRICS_TOKEN", ""),  # empty: /metrics only from loopback
        "SENTRY_DSN": env("SENTRY_DSN", ""),
        "SENTRY_TRACES_SAMPLE_RATE": env("SENTRY_TRACES_SAMPLE_RATE", "0"),
        "OUTBOX_MAX_LAG_SECONDS": int(env("OUTBOX_MAX_LAG_SECONDS", "900")),
        "JOBS_MAX_PENDING": int(env("JOBS_MAX_PENDING", "1000")),
        # Freeze start-up objects out of the garbage collector after the first request (see core/gc_freeze.py).
        "GC_FREEZE_AFTER_WARM_UP": env("GC_FREEZE_AFTER_WARM_UP", "1") == "1",
    }
    if overrides:
        config.update(overrides)
    if config.get("TESTING") and "JOBS_IMMEDIATE" not in (overrides or {}):
        config["JOBS_IMMEDIATE"] = True
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    return config
