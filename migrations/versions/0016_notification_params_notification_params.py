"""notification params: a notification is shown in the reader's language, filled in from its params

Revision ID: 0016_notification_params
Revises: 0015_list_rows
Create Date: 2026-11-24 19:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_notification_params'
down_revision = '0015_list_rows'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('params', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('params')
