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
        "SEARCH_INDEX_DIR": env("SEARCH_INDEX_DIR", str(instance / "search-index")),
        "SEARCH_INDEX_MEMORY_MB": int(env("SEARCH_INDEX_MEMORY_MB", "512")),  # per indexing process
        "UPLOAD_DIR": env("UPLOAD_DIR", str(instance / "uploads")),
        "MAX_UPLOAD_MB": int(env("MAX_UPLOAD_MB", "20")),
        "MAIL_SERVER": env("MAIL_SERVER", ""),
        "MAIL_PORT": int(env("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env("MAIL_USE_TLS", "0") == "1",
        "MAIL_USERNAME": env("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env("MAIL_PASSWORD", ""),
        "MAIL_FROM": env("MAIL_FROM", "noreply@jixiao.example.gov.cn"),
        # Where the portal is reached; links in notifications, emails and reminders start here.
        "PORTAL_BASE_URL": env("PORTAL_BASE_URL", "http://127.0.0.1:5000/portal/"),
        "SITE_NAME": env("SITE_NAME", "临州市预算绩效信息公开"),
        "PORTAL_NAME": env("PORTAL_NAME", "财审协同绩效监督平台"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", "0") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "PAGE_SIZE": 20,
        # Freeze start-up objects out of the garbage collector after the first request (see web.py).
        "GC_FREEZE_AFTER_WARM_UP": env("GC_FREEZE_AFTER_WARM_UP", "1") == "1",
    }
    if overrides:
        config.update(overrides)
    config["MAX_CONTENT_LENGTH"] = config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    return config
