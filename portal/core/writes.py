"""The one write path of a request (load → authorise → one operation → commit once → answer).

Views load the record (`load_or_404`, a 404), authorise through the permission point (a 403) and
hand exactly one operation to `perform()` or `submit()`:

    if form.validate_on_submit():
        done = submit(ops.update_problem, problem, actor=current_user, form=form,
                      redirect_to=lambda p: url_for("ledger.detail", problem_id=p.id),
                      success=_("已保存修改。"), **fields)
        if done:
            return done
    return render_template("portal/ledger/edit.html", form=form), status(form)

`perform()` runs the operation in the request's transaction, commits once and then starts the
after-commit effects (the outbox worker). A `DomainError` rolls everything back. Every POST may
carry a one-time `form_key` (templates render it with `{{ form_key() }}` or `form.hidden_tag()`):
it is stored under a unique constraint in the same transaction, so a double click, a back button
or a second tab submitting the same form writes once; the repeat is sent where the first went.
A stale save (the optimistic version check, `portal.core.versions`) is refused the same way.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import flash, has_request_context, redirect, request
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from portal.core import clock
from portal.core.errors import DomainError, IllegalTransition, NotPermitted, StaleRecord
from portal.extensions import db

# A refused write re-renders its form with this status, in every module.
DOMAIN_ERROR_STATUS = 422
FORM_KEY_FIELD = "form_key"


class SubmissionKey(db.Model):
    """One row per form submission that wrote something: the guard against doubles."""

    __tablename__ = "submission_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    redirect_to: Mapped[str] = mapped_column(sa.String(500), default="")


class DuplicateSubmission(DomainError):
    """The same form was submitted before; `redirect_to` is where the first one went."""

    def __init__(self, redirect_to: str):
        super().__init__(_("该表单已经提交过，未重复办理。"))
        self.redirect_to = redirect_to


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


def _submitted_key() -> str | None:
    if not has_request_context() or request.method != "POST":
        return None
    key = (request.form.get(FORM_KEY_FIELD) or request.headers.get("Idempotency-Key") or "").strip()
    return key[:64] or None


def _claim(key: str) -> None:
    from flask_login import current_user

    user_id = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
    try:
        with db.session.begin_nested():
            db.session.add(SubmissionKey(key=key, user_id=user_id))
    except sa.exc.IntegrityError:
        earlier = db.session.execute(sa.select(SubmissionKey.redirect_to, SubmissionKey.user_id)
                                     .where(SubmissionKey.key == key)).first()
        db.session.rollback()
        target = earlier.redirect_to if earlier is not None and earlier.user_id == user_id else ""
        raise DuplicateSubmission(target or request.referrer or request.path) from None


def perform(operation: Callable, /, *args, redirect_to: Callable | str | None = None, **kwargs):
    """Run one operation, commit once, start the after-commit effects. Returns its result.

    On a `DomainError` (a refused rule, a stale form, a duplicate submission) the transaction is
    rolled back and the error raised for the view to show."""
    key = _submitted_key()
    try:
        if key:
            _claim(key)
        result = operation(*args, **kwargs)
        if key:
            target = redirect_to(result) if callable(redirect_to) else (redirect_to or "")
            db.session.execute(sa.update(SubmissionKey).where(SubmissionKey.key == key)
                               .values(redirect_to=str(target)[:500]))
        commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleRecord(_("该记录已被他人修改，您的修改未保存。请刷新后重试。")) from None
    except DomainError:
        db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        raise
    return result


def commit() -> None:
    """The one commit: of a request (through `perform`), a command or the worker. Wakes the
    outbox worker when the transaction wrote after-commit effects."""
    db.session.flush()
    has_effects = db.session.info.pop("outbox_pending", False)
    jobs_started = "jobs_to_run" in db.session.info
    db.session.commit()
    if has_effects:
        from portal.core import outbox

        outbox.wake()
    if jobs_started:
        from portal.core import background

        background.run_started()


def submit(operation: Callable, /, *args, form=None, redirect_to: Callable | str,
           success: Callable | str | None = None, **kwargs):
    """`perform()` for a form: a redirect on success (with the success message), None when the
    write was refused — the message is then on the form's field (or at the top of the page) and
    the view re-renders the form with the user's input and `status(form)`."""
    try:
        result = perform(operation, *args, redirect_to=redirect_to, **kwargs)
    except DuplicateSubmission as duplicate:
        flash(duplicate.message, "info")
        return redirect(duplicate.redirect_to)
    except DomainError as error:
        show_error(error, form)
        return None
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def submitted(form, operation: Callable, /, *args, **kwargs):
    """`submit()` once `form` validates: its redirect, or None when the input is invalid or the write
    was refused, for the view to re-render the form with `status(form)`:

        return submitted(form, operations.withdraw, letter, actor=current_user, ...) or (page(form), status(form))
    """
    return submit(operation, *args, form=form, **kwargs) if form.validate_on_submit() else None


def show_error(error: DomainError, form=None) -> None:
    """The message on the field it names (or the form's first field), and at the top of the page
    when the record moved on under the user (a stale or refused transition)."""
    if has_request_context():
        request.environ["portal.write_refused"] = True  # status() answers DOMAIN_ERROR_STATUS
    target = getattr(form, error.field or "", None) if form is not None else None
    if isinstance(error, IllegalTransition | NotPermitted | StaleRecord) or target is None:
        flash(error.message, "error")
    if target is not None and hasattr(target, "errors"):
        if isinstance(target.errors, tuple):
            target.errors = list(target.errors)
        target.errors.append(error.message)


def status(form=None) -> int:
    """200 for a page shown, DOMAIN_ERROR_STATUS when a submitted form is shown again."""
    if not has_request_context() or request.method != "POST":
        return 200
    if request.environ.get("portal.write_refused") or (form is not None and form.errors):
        return DOMAIN_ERROR_STATUS
    return 200


def lock(record) -> None:
    """Take the row lock of `record` for a transition and reload it, so the state re-checked
    after this is the committed one (PostgreSQL `SELECT … FOR UPDATE`; SQLite's write
    transactions are IMMEDIATE, which serialises writers already)."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql" and sa.inspect(record).persistent:
        session.flush()  # what the operation changed so far is kept (and locks the row already)
        # OF its own table: eager-joined relations (a user's organisation) stay unlocked and legal
        session.refresh(record, with_for_update={"of": type(record).__table__})


# ---- GET requests never write --------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _in_safe_request() -> bool:
    return has_request_context() and request.method in SAFE_METHODS


def _refuse_write_on_get(session, _context, _instances) -> None:
    if not _in_safe_request():
        return
    if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        raise RuntimeError(f"{request.method} {request.path} tried to write: GET requests never write")


def _forget_effects(session) -> None:
    """A rolled-back transaction's effects and jobs never happen."""
    session.info.pop("outbox_pending", None)
    session.info.pop("jobs_to_run", None)


def init_app(app) -> None:
    from sqlalchemy import event

    event.listen(db.session, "before_flush", _refuse_write_on_get)
    event.listen(db.session, "after_rollback", _forget_effects)
    app.jinja_env.globals["form_key"] = form_key_input


def form_key_input():
    from markupsafe import Markup

    return Markup(f'<input type="hidden" name="{FORM_KEY_FIELD}" value="{new_form_key()}">')


def read_only(view):
    """Mark a POST view that writes nothing (a preview, a search by POST): the shape test lets it
    skip `perform()`; the GET-never-writes guard does not apply to it, so mark only what is true."""
    view.read_only = True
    return view
