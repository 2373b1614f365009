"""status district case index: a list filtered by stage and 행정동 reads its page off one covering index

Revision ID: 0018_status_district_case
Revises: 0017_audit_actor_index
Create Date: 2026-11-24 19:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018_status_district_case'
down_revision = '0017_audit_actor_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_status_district_case',
                              ['status', 'district', 'case_year', 'case_seq', 'discovered_on'], unique=False)
        batch_op.drop_index('ix_household_status_district')


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_status_district', ['status', 'district'], unique=False)
        batch_op.drop_index('ix_household_status_district_case')
