"""The packages for the People's Congress (报送人大): list, build (a job), detail, printable
summary, download, submission."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core import clock
from portal.core.excel import safe_filename
from portal.core.permissions import can, load_or_404, require
from portal.core.writes import status, submit
from portal.oversight import packages, queries
from portal.oversight.forms import BuildForm, SubmitForm
from portal.oversight.models import CongressPackage, PackageKind
from portal.oversight.views import bp


@bp.route("/packages", methods=["GET", "POST"])
def package_list():
    require(current_user, "view", CongressPackage)
    form = BuildForm(year=clock.today().year - 1)
    if request.method == "POST":
        require(current_user, "build", CongressPackage)
        if form.validate_on_submit():
            done = submit(packages.start, form.year.data, form.kind.data, actor=current_user, form=form,
                          redirect_to=lambda p: url_for("jobs.show", job_id=p.job_id),
                          success=_("材料包开始生成。"))
            if done:
                return done
    return render_template("portal/oversight/packages.html", packages=queries.packages(current_user), form=form,
                           can_build=can(current_user, "build", CongressPackage), kinds=PackageKind), status(form)


@bp.get("/packages/<int:package_id>")
def package(package_id):
    item = load_or_404(CongressPackage, package_id)
    return render_template("portal/oversight/package.html", package=item, form=SubmitForm(obj=item),
                           can_submit=can(current_user, "submit", item),
                           can_download=can(current_user, "download", item))


@bp.get("/packages/<int:package_id>/summary")
def package_summary(package_id):
    item = load_or_404(CongressPackage, package_id, "download")
    contents = item.contents
    return render_template("portal/oversight/package_summary.html", package=item,
                           figures=contents.get("figures", {}), index=None, files=contents.get("files", []))


@bp.get("/packages/<int:package_id>/download")
def package_download(package_id):
    item = load_or_404(CongressPackage, package_id, "download")
    path = packages.packages_dir() / item.file_name if item.file_name else None
    if path is None or not path.exists():
        abort(404)
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=safe_filename(item.download_name))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/packages/<int:package_id>/submit")
def package_submit(package_id):
    item = load_or_404(CongressPackage, package_id, "submit")
    form = SubmitForm()
    back = url_for("oversight.package", package_id=item.id)
    if form.validate_on_submit():
        done = submit(packages.submit, item, actor=current_user, note=form.note.data or "",
                      version=form.lock_version.data, form=form, redirect_to=back, success=_("已报送人大。"))
        if done:
            return done
    return redirect(back)
