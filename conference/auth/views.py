"""Login, logout, own password and language."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from conference.auth import services
from conference.auth.forms import ChangePasswordForm, LanguageForm, LoginForm
from conference.auth.passwords import verify_password
from conference.auth.sessions import end_session, is_safe_next, start_session
from conference.extensions import db

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
        db.session.commit()
        if user is not None:
            start_session(user)
            db.session.commit()
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.sign_out(current_user)
    db.session.commit()
    end_session()
    flash(_("로그아웃되었습니다."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(current_user.username)
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("현재 비밀번호가 올바르지 않습니다."))
        else:
            user = current_user._get_current_object()
            services.change_password(user, form.new_password.data, by=user)
            db.session.commit()
            start_session(user)
            flash(_("비밀번호를 바꿨습니다. 다른 기기의 로그인은 모두 끝났습니다."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.post("/language/<code>")
def set_language(code):
    form = LanguageForm()
    if form.validate_on_submit() and code in current_app.config["LANGUAGES"]:
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
        session["lang"] = code
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("main.home"))
