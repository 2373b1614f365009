"""audit actor index: the access log filtered by account reads an index, not the whole log

Revision ID: 0017_audit_actor_index
Revises: 0016_notification_params
Create Date: 2026-11-24 19:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_audit_actor_index'
down_revision = '0016_notification_params'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_actor_name', ['actor_name'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_actor_name')
