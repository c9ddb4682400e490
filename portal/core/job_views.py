"""The page of a long job: a progress bar while it runs (htmx polls the partial every second; the
page refreshes itself without JavaScript), then its result, its row errors or its download."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file

from portal.core.background import RUNNERS, BackgroundJob, JobState, jobs_dir, progress_of
from portal.core.permissions import load_or_404, policy

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@policy(BackgroundJob)
def job_policy(user, action, job) -> bool:
    """Who started a job sees it; nobody else (not even an administrator), whatever it holds."""
    if isinstance(job, type) or action != "view":
        return False
    spec = RUNNERS.get(job.kind)
    return spec is not None and spec.may_view(user, job)


def _context(job):
    return {"job": job, "progress": progress_of(job), "running": job.status in (JobState.QUEUED, JobState.RUNNING)}


@bp.get("/<int:job_id>")
def show(job_id):
    job = load_or_404(BackgroundJob, job_id, "view")
    return render_template("portal/core/job.html", **_context(job))


@bp.get("/<int:job_id>/progress")
def progress(job_id):
    job = load_or_404(BackgroundJob, job_id, "view")
    response = render_template("portal/core/_job_progress.html", **_context(job))
    if job.status not in (JobState.QUEUED, JobState.RUNNING):
        return response, 200, {"HX-Refresh": "true"}  # finished: the whole page shows the result
    return response


@bp.get("/<int:job_id>/download")
def download(job_id):
    job = load_or_404(BackgroundJob, job_id, "view")
    if job.status != JobState.DONE or not job.result_file:
        abort(404)
    path = jobs_dir() / job.result_file
    if not path.exists():
        abort(404)
    response = send_file(path, as_attachment=True, download_name=job.result_name or path.name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
