"""Admin pages: agencies and accounts (the audit trail's pages are the audit blueprint's, conference/audit/views.py)."""
from functools import partial

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from conference.admin import services
from conference.admin.forms import AgencyForm, ResetPasswordForm, UserCreateForm, UserEditForm
from conference.auth.sessions import recheck_password, renew_session
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.models import Agency, User
from conference.shared.permissions import can_manage_accounts, require
from conference.shared.webforms import ButtonForm, active_agencies, commit_change

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    require(can_manage_accounts(current_user))


def _user_edit_form(user, **kwargs):
    agencies = active_agencies()
    if user.agency not in agencies:
        agencies.append(user.agency)
    return UserEditForm(agencies, obj=user, **kwargs)


def _own_email_change(user, form) -> bool:
    """Whether the admin is changing their own e-mail: that asks for the current password, like a password change."""
    return user.id == current_user.id and form.values()["email"] != (user.email or "")


def _keep_own_session(user):
    """A change to the admin's own account may have ended all its sessions; keep this browser signed in on a new
    login (like a password change). The caller commits."""
    if user.id == current_user.id:
        renew_session(user)


@bp.get("/agencies")
def agencies():
    rows = db.session.execute(db.select(Agency).order_by(Agency.is_active.desc(), Agency.name)).scalars()
    return render_template("admin/agencies.html", agencies=rows.all())


@bp.route("/agencies/new", methods=["GET", "POST"])
def agency_new():
    form = AgencyForm()
    if form.validate_on_submit() and commit_change(
            partial(services.create_agency, by=current_user, **form.values()), form=form,
            success=lambda agency: _("기관 '%(name)s'을(를) 등록했습니다.", name=agency.name)):
        return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=None)


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
def agency_edit(agency_id):
    agency = db.get_or_404(Agency, agency_id)
    form = AgencyForm(obj=agency, is_public="1" if agency.is_public else "0")
    if form.validate_on_submit() and commit_change(
            partial(services.update_agency, agency, by=current_user, **form.values()), form=form,
            success=_("기관 정보를 저장했습니다.")):
        return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=agency)


@bp.get("/users")
def users():
    rows = db.session.execute(db.select(User).order_by(User.is_active_account.desc(), User.username))
    return render_template("admin/users.html", users=rows.scalars().all())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserCreateForm(active_agencies())
    if form.validate_on_submit():
        values = form.values()
        values.pop("is_active_account")
        if commit_change(partial(services.create_user, by=current_user, username=form.username.data,
                                 password=form.password.data, **values), form=form,
                         success=lambda user: _("계정 '%(name)s'을(를) 만들었습니다. 첫 로그인 때 비밀번호를 바꾸게 됩니다.",
                                                name=user.username)):
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id):
    user = db.get_or_404(User, user_id)
    form = _user_edit_form(user)
    if form.validate_on_submit():
        if _own_email_change(user, form) and not recheck_password(user, form.current_password):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
        else:
            def save():
                services.update_user(user, by=current_user, **form.values())
                _keep_own_session(user)

            if commit_change(save, success=_("계정 정보를 저장했습니다."), form=form):
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user,
                           reset_form=ResetPasswordForm(user.username, formdata=None))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_reset_password(user_id):
    user = db.get_or_404(User, user_id)
    reset_form = ResetPasswordForm(user.username)
    if reset_form.validate_on_submit():
        services.reset_password(user, by=current_user, temporary_password=reset_form.password.data)
        _keep_own_session(user)
        db.session.commit()
        flash(_("임시 비밀번호를 설정했습니다. 그 계정의 로그인은 모두 끝났습니다."), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    form = _user_edit_form(user, formdata=None)
    return render_template("admin/user_form.html", form=form, user=user, reset_form=reset_form)


@bp.post("/users/<int:user_id>/two-factor/reset")
def user_reset_two_factor(user_id):
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit() and user.totp_enabled_at is not None:
        services.reset_two_factor(user, by=current_user)
        _keep_own_session(user)
        db.session.commit()
        flash(_("2단계 인증을 초기화했습니다. 그 계정의 로그인은 모두 끝났습니다."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))
