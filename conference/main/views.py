"""The home page, different for each role."""
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return redirect(url_for("main.home" if current_user.is_authenticated else "auth.login"))


@bp.get("/home")
@login_required
def home():
    return render_template(f"main/home_{current_user.role}.html")


@bp.get("/account")
@login_required
def account():
    return render_template("main/account.html")
