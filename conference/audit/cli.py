"""Command-line tools for the audit trail: check the hash chain, delete events past their retention."""
import click
from flask import current_app
from flask.cli import with_appcontext

from conference import audit
from conference.core.formatting import korean_datetime
from conference.extensions import db


def _problem_line(check: audit.ChainCheck) -> str:
    seq = check.broken_at
    if check.problem == "changed":
        return (f"순번 {seq}의 기록 내용이 저장된 해시와 맞지 않습니다(기록이 바뀜). "
                f"/ event {seq} does not match its hash (edited).")
    if check.problem == "link":
        return (f"순번 {seq}이(가) 앞 기록의 해시와 이어지지 않습니다(순번 {seq - 1} 또는 {seq}이 바뀜). "
                f"/ event {seq} does not link to event {seq - 1} (one of them was edited).")
    if check.problem == "missing":
        span = f"{seq}" if check.missing_to in (None, seq) else f"{seq}–{check.missing_to}"
        return f"순번 {span}의 기록이 없습니다(삭제됨). / event(s) {span} missing (deleted)."
    return (f"체인 끝(audit_chain_head)이 마지막 기록(순번 {seq})과 맞지 않습니다. "
            f"/ the chain head does not match the last event ({seq}).")


@click.command("verify-audit")
@with_appcontext
def verify_audit_command():
    """Recompute the audit trail's hash chain; exit 1 at the first edited or missing event."""
    check = audit.verify_chain()
    db.session.rollback()
    if check.unchained:
        click.echo(f"체인 이전의 기록 {check.unchained:,}건은 검증 대상이 아닙니다. "
                   f"/ {check.unchained} event(s) from before the chain are not checked.")
    if not check.ok:
        click.echo(f"감사 기록이 훼손되었습니다: {_problem_line(check)} "
                   f"(앞의 {check.chained:,}건은 정상 / {check.chained} earlier event(s) intact)", err=True)
        raise SystemExit(1)
    start = f", 순번 {check.first_seq}부터 / from seq {check.first_seq}" if check.first_seq not in (None, 1) else ""
    click.echo(f"감사 기록 해시 체인 정상: {check.chained:,}건{start} / audit chain OK: {check.chained} event(s)")
    click.echo(f"체인 끝 / head: {check.head_seq} {check.head_hash or '-'}")


@click.command("purge-audit")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@with_appcontext
def purge_audit_command(dry_run):
    """Delete audit events older than AUDIT_RETENTION_DAYS (access-right changes: AUDIT_RIGHTS_RETENTION_DAYS)."""
    config = current_app.config
    purge = audit.purge_expired(retention_days=config["AUDIT_RETENTION_DAYS"],
                                rights_retention_days=config["AUDIT_RIGHTS_RETENTION_DAYS"], dry_run=dry_run)
    cutoff = korean_datetime(purge.cutoff)
    if dry_run:
        db.session.rollback()
        click.echo(f"[시험 실행] {cutoff} 이전 기록 {purge.count:,}건을 지울 수 있습니다. 아무것도 지우지 않았습니다. "
                   f"/ [dry run] {purge.count} event(s) before {purge.cutoff:%Y-%m-%d %H:%M} UTC would be deleted.")
        return
    db.session.commit()
    if not purge.count:
        click.echo(f"{cutoff} 이전의 지울 기록이 없습니다. / nothing to delete.")
        return
    click.echo(f"{cutoff} 이전 감사 기록 {purge.count:,}건을 지웠습니다(보관기간 {config['AUDIT_RETENTION_DAYS']}일). "
               f"/ deleted {purge.count} event(s); recorded as audit.purge (seq {purge.event.chain_seq}).")


def register_commands(app):
    app.cli.add_command(verify_audit_command)
    app.cli.add_command(purge_audit_command)
