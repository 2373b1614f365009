"""Login (with its two-factor step), logout, own password, own two-factor login and language."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from conference.auth import services, two_factor
from conference.auth.forms import (ChangePasswordForm, CurrentPasswordForm, EnableTwoFactorForm, LoginForm,
                                   TwoFactorCodeForm)
from conference.auth.sessions import (begin_two_factor_login, current_login, end_session, finish_two_factor_login,
                                      has_pending_login, is_safe_next, pending_two_factor_login, recheck_password,
                                      renew_session, start_session)
from conference.core.i18n import gettext as _
from conference.extensions import db
from conference.shared.webforms import ButtonForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except services.LoginLocked:
            user = None
            form.form_errors.append(_("로그인 실패가 반복되어 잠시 잠겼습니다. 몇 분 뒤에 다시 시도하세요."))
        else:
            if user is None:
                form.form_errors.append(_("아이디 또는 비밀번호가 올바르지 않습니다."))
        target, destination = request.args.get("next"), None
        if user is not None and two_factor.is_enabled(user):
            begin_two_factor_login(user, target)
            destination = url_for("auth.login_two_factor")
        elif user is not None:
            start_session(user)
            destination = target if is_safe_next(target) else url_for("main.home")
        db.session.commit()
        if destination is not None:
            return redirect(destination)
    return render_template("auth/login.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
def login_two_factor():
    """The second login step, for a browser whose password step just succeeded; nobody is logged in yet."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    had_pending = has_pending_login()
    pending = pending_two_factor_login()
    if pending is None:
        if had_pending:
            flash(_("인증 시간이 지났습니다. 처음부터 다시 로그인하세요."), "warning")
        return redirect(url_for("auth.login"))
    user, target = pending
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        try:
            method = services.complete_two_factor_login(user, form.code.data)
        except services.LoginLocked:
            method = None
            form.code.errors.append(_("로그인 실패가 반복되어 잠시 잠겼습니다. 몇 분 뒤에 다시 시도하세요."))
        else:
            if method is None:
                form.code.errors.append(_("인증 코드가 올바르지 않습니다."))
        if method is not None:
            finish_two_factor_login(user)
        db.session.commit()
        if method is not None:
            if method == "recovery_code":
                flash(_("복구 코드로 로그인했습니다. 남은 복구 코드는 %(n)s개입니다.",
                        n=two_factor.unused_recovery_codes(user)), "warning")
            return redirect(target if is_safe_next(target) else url_for("main.home"))
    return render_template("auth/login_two_factor.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.sign_out(current_user, current_login())
    db.session.commit()
    end_session()
    flash(_("로그아웃되었습니다."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(current_user.username)
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not recheck_password(user, form.current_password):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
        else:
            services.change_password(user, form.new_password.data, by=user)
            renew_session(user)
            db.session.commit()
            flash(_("비밀번호를 바꿨습니다. 다른 기기의 로그인은 모두 끝났습니다."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


def _two_factor_status(disable_form=None, codes_form=None):
    user = current_user._get_current_object()
    return render_template("auth/two_factor.html", unused_codes=two_factor.unused_recovery_codes(user),
                           can_disable=not two_factor.is_required_for(user),
                           disable_form=disable_form or CurrentPasswordForm(prefix="disable", formdata=None),
                           codes_form=codes_form or CurrentPasswordForm(prefix="codes", formdata=None))


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def two_factor_settings():
    """The user's own two-factor login: its state, or enrolment (start, scan, confirm with a code and the
    current password)."""
    user = current_user._get_current_object()
    if two_factor.is_enabled(user):
        return _two_factor_status()
    if not user.totp_secret:
        if request.method == "POST":
            return redirect(url_for("auth.two_factor"))
        return render_template("auth/two_factor_setup.html", start_form=ButtonForm())
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        if not recheck_password(user, form.current_password):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
        else:
            codes = two_factor.enable(user, form.code.data)
            if codes is not None:
                renew_session(user)
                db.session.commit()
                flash(_("2단계 인증을 켰습니다. 다른 기기의 로그인은 모두 끝났습니다."), "success")
                return render_template("auth/recovery_codes.html", codes=codes)
            form.code.errors.append(_("인증 코드가 올바르지 않습니다. 앱에 지금 표시된 코드를 입력하세요."))
    uri = two_factor.provisioning_uri(user)
    return render_template("auth/two_factor_setup.html", form=form, start_form=ButtonForm(),
                           secret=two_factor.grouped(user.totp_secret),
                           qr=two_factor.qr_svg(uri, _("인증 앱에 등록할 QR 코드")))


@bp.post("/account/two-factor/start")
@login_required
def two_factor_start():
    """Make a new secret to enrol with (again, if the first was not scanned); nothing changes at login yet."""
    user = current_user._get_current_object()
    if not two_factor.is_enabled(user) and ButtonForm().validate_on_submit():
        two_factor.start_enrolment(user)
        db.session.commit()
    return redirect(url_for("auth.two_factor"))


def _with_current_password(prefix: str, change, refusal=None):
    """A change to the user's two-factor login, which must be on: the current password (the form ``prefix``, as on
    the settings page) is asked again, then ``change(user)`` makes the change and gives the answer. ``refusal(user)``,
    asked first, is a message that stops the change, or None. A refused form shows the settings page again."""
    user = current_user._get_current_object()
    if not two_factor.is_enabled(user):
        return redirect(url_for("auth.two_factor"))
    form = CurrentPasswordForm(prefix=prefix)
    if form.validate_on_submit():
        refused = refusal(user) if refusal is not None else None
        if refused:
            form.current_password.errors.append(refused)
        elif not recheck_password(user, form.current_password):
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
        else:
            return change(user)
    return _two_factor_status(**{f"{prefix}_form": form})


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable():
    def disable(user):
        two_factor.disable(user, by=user)
        renew_session(user)
        db.session.commit()
        flash(_("2단계 인증을 껐습니다. 다른 기기의 로그인은 모두 끝났습니다."), "success")
        return redirect(url_for("auth.two_factor"))

    return _with_current_password("disable", disable, refusal=_admins_keep_two_factor)


def _admins_keep_two_factor(user):
    """Why ``user`` may not switch two-factor login off (an admin must keep it), or None."""
    return _("관리자 계정은 2단계 인증을 끌 수 없습니다.") if two_factor.is_required_for(user) else None


@bp.post("/account/two-factor/recovery-codes")
@login_required
def two_factor_recovery_codes():
    def regenerate(user):
        codes = two_factor.regenerate_recovery_codes(user)
        db.session.commit()
        flash(_("복구 코드를 새로 만들었습니다. 예전 복구 코드는 더 이상 쓸 수 없습니다."), "success")
        return render_template("auth/recovery_codes.html", codes=codes)

    return _with_current_password("codes", regenerate)


@bp.post("/language/<code>")
def set_language(code):
    form = ButtonForm()
    if form.validate_on_submit() and code in current_app.config["LANGUAGES"]:
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
        session["lang"] = code
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
