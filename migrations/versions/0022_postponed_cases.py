"""postponed cases: an agenda item the meeting put off (보류, 다음 회의로) keeps its reason and when

Revision ID: 0022_postponed_cases
Revises: 0021_login_sessions
Create Date: 2026-12-20 10:00:00
"""
from alembic import op
import sqlalchemy as sa

import conference.core.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = '0022_postponed_cases'
down_revision = '0021_login_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postponed_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('postponed_at', conference.core.database.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_column('postponed_at')
        batch_op.drop_column('postponed_reason')
