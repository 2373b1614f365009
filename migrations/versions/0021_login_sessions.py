"""login sessions on the server; the login throttle counts per username and client address

Revision ID: 0021_login_sessions
Revises: 0020_access_denied
Create Date: 2026-12-08 10:00:00

Each login becomes a row of ``login_session`` (the cookie holds a random key, the row its SHA-256); the
per-user ``session_token`` it replaces is dropped, so sessions from before the upgrade need a new login.
``login_throttle`` rows gain the client address; the rows there already counted a username's failures from
every address, and become that username's row over all addresses (``'*'``).
"""
import secrets

from alembic import op
import sqlalchemy as sa

import conference.core.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = '0021_login_sessions'
down_revision = '0020_access_denied'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('user_agent_hash', sa.String(length=64), nullable=False),
    sa.Column('logged_in_at', conference.core.database.UTCDateTime(), nullable=False),
    sa.Column('created_at', conference.core.database.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', conference.core.database.UTCDateTime(), nullable=False),
    sa.Column('awaiting_second_factor', sa.Boolean(), nullable=False),
    sa.Column('ended_at', conference.core.database.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_login_session_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_token')

    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=45), nullable=False, server_default='*'))
        batch_op.drop_constraint('uq_login_throttle_username', type_='unique')
        batch_op.create_unique_constraint('uq_login_throttle_username', ['username', 'address'])


def downgrade():
    bind = op.get_bind()
    throttle = sa.table('login_throttle', sa.column('address', sa.String))
    op.execute(throttle.delete().where(throttle.c.address != '*'))
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_constraint('uq_login_throttle_username', type_='unique')
        batch_op.drop_column('address')
        batch_op.create_unique_constraint('uq_login_throttle_username', ['username'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))
    users = sa.table('user_account', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id).values(session_token=secrets.token_urlsafe(24)))

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
    op.drop_table('login_session')
