"""What an operator on call sees, on both faces: health, logs, metrics, errors.

- `/healthz`: the process answers (no database touched). `/readyz`: the database answers, its
  migrations are at head, the search index is there and holds what the published snapshots say,
  and (portal) the outbox and job queue are not stuck. Both without login, with statuses only.
- Logs: one line per request with a request id (the `X-Request-ID` header when a proxy sends a
  well-formed one, else a new one; echoed in the response), the user id on portal requests, and
  every unhandled exception with its traceback. JSON (`LOG_FORMAT=json`, the default outside
  development) or readable text (`LOG_FORMAT=text`, what `make run` uses).
- Metrics: `/metrics` in the Prometheus format (prometheus-flask-exporter: requests by route
  and status, latency histograms) plus the outbox's and job queue's lag and the index's
  completeness; readable from loopback, or with `Authorization: Bearer $METRICS_TOKEN`.
- Errors to Sentry when `SENTRY_DSN` is set (no personal data sent).
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, has_request_context, jsonify, request

log = logging.getLogger("portal.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
health = Blueprint("health", __name__)


# ---- logs ----------------------------------------------------------------------------------

class RequestContext(logging.Filter):
    """Adds request_id, user_id, method and path to every record logged during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = record.user_id = record.method = record.path = None
        if has_request_context():
            record.request_id = g.get("request_id")
            record.method, record.path = request.method, request.path
            record.user_id = g.get("log_user_id")
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if getattr(record, "request_id", None):
            user = f" user={record.user_id}" if record.user_id else ""
            line = f"{line} [req={record.request_id}{user}]"
        return line


def configure_logging(app) -> None:
    """Once per process: a stderr handler on the `portal` and `public_site` loggers."""
    root = logging.getLogger("portal")
    if getattr(root, "_telemetry_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestContext())
    if app.config.get("LOG_FORMAT", "json") == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"asctime": "time", "levelname": "level"}))
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("portal", "public_site"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    root._telemetry_configured = True


def _begin_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _end_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if current_app.config.get("PORTAL_FACE") == "portal":
        from flask_login import current_user

        g.log_user_id = current_user.get_id() if current_user.is_authenticated else None
    elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    if request.endpoint not in ("health.healthz", "static"):
        log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed,
                 extra={"status": response.status_code, "duration_ms": round(elapsed, 1)})
    return response


# ---- health --------------------------------------------------------------------------------

@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def _database() -> Check:
    from portal.extensions import db

    try:
        db.session.execute(sa.text("SELECT 1"))
        return Check("database", True)
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return Check("database", False, type(error).__name__)


def _migrations() -> Check:
    from alembic.script import ScriptDirectory

    from portal.core.migrations_check import alembic_config
    from portal.extensions import db

    url = db.engine.url.render_as_string(hide_password=False)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    try:
        current = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current = None
    return Check("migrations", current == head, "" if current == head else "not at head")


def _outbox() -> Check:
    from portal.core import outbox

    age = outbox.oldest_pending_age()
    limit = current_app.config.get("OUTBOX_MAX_LAG_SECONDS", 900)
    if age is not None and age.total_seconds() > limit:
        return Check("outbox", False, "lagging")
    return Check("outbox", True)


def _job_queue() -> Check:
    from portal.core import jobs

    try:
        pending = jobs.huey.pending_count()
    except Exception as error:  # noqa: BLE001  an unreachable queue is "not ready"
        return Check("job_queue", False, type(error).__name__)
    return Check("job_queue", pending <= current_app.config.get("JOBS_MAX_PENDING", 1000), "")


def add_readiness_check(app, check) -> None:
    """The faces add their own checks, `check() -> Check` (the search index, a replica's
    subscription): core knows no module."""
    app.extensions.setdefault("readiness_checks", []).append(check)


def readiness() -> list[Check]:
    checks = [_database()]
    if not checks[0].ok:
        return checks
    if not current_app.config.get("PUBLIC_REPLICA"):  # a replica's schema comes from the subscription
        checks.append(_migrations())
    checks += [check() for check in current_app.extensions.get("readiness_checks", [])]
    if current_app.config.get("PORTAL_FACE") == "portal":
        checks += [_outbox(), _job_queue()]
    return checks


@health.get("/healthz")
def healthz():
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    checks = readiness()
    ready = all(c.ok for c in checks)
    body = {"status": "ready" if ready else "not ready",
            "checks": {c.name: "ok" if c.ok else (c.detail or "failing") for c in checks}}
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- metrics -------------------------------------------------------------------------------

class LagCollector:
    """Gauges computed at scrape time, inside the app's context."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []  # computed at scrape time only (the registry would otherwise collect at start-up)

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        with self.app.app_context():
            checks = {c.name: c for c in readiness()}
            if self.app.config.get("PORTAL_FACE") == "portal":
                from portal.core import jobs, outbox

                age = outbox.oldest_pending_age()
                yield GaugeMetricFamily("portal_outbox_pending", "Outbox messages not yet delivered",
                                        value=outbox.pending_count())
                yield GaugeMetricFamily("portal_outbox_oldest_pending_seconds", "Age of the oldest undelivered message",
                                        value=age.total_seconds() if age else 0)
                try:
                    yield GaugeMetricFamily("portal_jobs_pending", "Jobs waiting in the queue",
                                            value=jobs.huey.pending_count())
                except Exception:  # noqa: BLE001  reported by readiness as well
                    pass
            for name, check in checks.items():
                yield GaugeMetricFamily(f"portal_ready_{name}", f"1 when the {name} check passes", value=int(check.ok))
            from portal.extensions import db

            db.session.remove()


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN", "")
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header, f"Bearer {token}"):
        return True
    try:
        return not token and ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def init_metrics(app) -> None:
    from prometheus_client import CollectorRegistry
    from prometheus_flask_exporter import PrometheusMetrics

    registry = CollectorRegistry(auto_describe=True)
    metrics = PrometheusMetrics(app, registry=registry, path=None, group_by="url_rule",
                                default_labels={"face": app.config.get("PORTAL_FACE", "portal")},
                                excluded_paths=["/healthz", "/static"])
    registry.register(LagCollector(app))

    @app.get("/metrics", endpoint="health.metrics")
    @metrics.do_not_track()
    def metrics_view():
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if not _metrics_allowed():
            abort(403)
        return generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def init_sentry(app) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], send_default_pii=False,
                    traces_sample_rate=float(app.config.get("SENTRY_TRACES_SAMPLE_RATE", 0)))


def init_app(app, face: str) -> None:
    app.config["PORTAL_FACE"] = face
    configure_logging(app)
    init_sentry(app)
    app.before_request(_begin_request)
    app.after_request(_end_request)
    app.register_blueprint(health)
    init_metrics(app)
