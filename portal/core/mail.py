"""Email, delivered from the outbox (never from inside a request or a reminder run).

`queue_mail(to, subject, text)` writes an outbox message in the caller's transaction; the worker
sends it over one SMTP connection per drain, each step bounded by `MAIL_TIMEOUT` seconds. A
message is marked sent only after the server accepted it. When the server refuses the
connection or stops answering, the rest of the run's mail is deferred at once (with backoff)
instead of waiting a timeout per message: a drain with the mail server down finishes within
about one `MAIL_TIMEOUT`.

Without `MAIL_SERVER`, mail is not sent; in TESTING it lands in `test_mailbox`.
"""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from portal.core import outbox

test_mailbox: list[EmailMessage] = []
_SMTP = "smtp"


def queue_mail(to: str, subject: str, text: str) -> None:
    config = current_app.config
    if not to or not (config.get("MAIL_SERVER") or config.get("TESTING")):
        return
    outbox.enqueue("email", {"to": to, "subject": subject, "text": text})


def _message(data: dict) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = data["to"]
    message["Subject"] = data["subject"].replace("\r", " ").replace("\n", " ")
    message.set_content(data["text"])
    return message


def _connection(run: outbox.Run) -> smtplib.SMTP:
    if _SMTP in run.down:
        raise outbox.Deferred("mail server unavailable in this run")
    smtp = run.resources.get(_SMTP)
    if smtp is not None:
        return smtp
    config = current_app.config
    try:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 10))
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except (OSError, smtplib.SMTPException) as error:
        run.down.add(_SMTP)
        raise outbox.Deferred(f"mail server unavailable: {error}") from error
    run.resources[_SMTP] = smtp
    run.on_close(smtp.quit)
    return smtp


@outbox.handler("email")
def send_email(data: dict, run: outbox.Run) -> None:
    message = _message(data)
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        if config.get("TESTING"):
            test_mailbox.append(message)
        return
    smtp = _connection(run)
    try:
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused:
        raise  # this address only: retried, then failed; the connection stays usable
    except (OSError, smtplib.SMTPException) as error:
        run.down.add(_SMTP)  # a timeout or a dropped connection: don't wait on it again this run
        run.resources.pop(_SMTP, None)
        raise outbox.Deferred(f"mail server stopped answering: {error}") from error
