"""access denied: refusals of a case, meeting or action are folded per account, route and minute

Revision ID: 0020_access_denied
Revises: 0019_disclosure_levels
Create Date: 2026-12-08 10:20:00

The first refusal of a minute writes the chained access.denied event; this table counts the rest.
"""
from alembic import op
import sqlalchemy as sa

import conference.core.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = '0020_access_denied'
down_revision = '0019_disclosure_levels'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'access_denial',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('route', sa.String(length=80), nullable=False),
        sa.Column('minute', conference.core.database.UTCDateTime(), nullable=False),
        sa.Column('object_type', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('object_ids', sa.Text(), nullable=False),
        sa.Column('last_at', conference.core.database.UTCDateTime(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'],
                                name=op.f('fk_access_denial_audit_event_id_audit_event'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_access_denial_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_denial')),
        sa.UniqueConstraint('user_id', 'route', 'minute', name=op.f('uq_access_denial_user_id')),
    )
    with op.batch_alter_table('access_denial', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_denial_minute'), ['minute'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_denial_audit_event_id'), ['audit_event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('access_denial', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_denial_audit_event_id'))
        batch_op.drop_index(batch_op.f('ix_access_denial_minute'))
    op.drop_table('access_denial')
