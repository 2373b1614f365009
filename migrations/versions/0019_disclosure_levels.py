"""disclosure levels: every free text keeps who may read it; actions keep a consent override; packets freeze

Revision ID: 0019_disclosure_levels
Revises: 0018_status_district_case
Create Date: 2026-12-04 18:40:00

Existing rows get the defaults new text gets: health notes, root causes and actions in the health domain, and
everything the mental-health and health centres wrote, are 민감정보; the rest is 참석기관 공유.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_disclosure_levels'
down_revision = '0018_status_district_case'
branch_labels = None
depends_on = None

LEVEL_COLUMNS = {
    'agenda_item': ('key_question_level',),
    'household': ('signals_level',),
    'assessment': ('summary_level',),
    'assessment_rating': ('notes_level',),
    'agency_input': ('facts_level', 'opinion_level', 'risk_level'),
    'case_record': ('discussion_level', 'decisions_level'),
    'root_cause': ('level',),
    'action_item': ('task_level',),
}
SENSITIVE_SECTORS = "('mental_health', 'health_centre')"


def upgrade():
    for table, columns in LEVEL_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.String(length=20), server_default='shared', nullable=False))
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_override_reason', sa.Text(), server_default='', nullable=False))
        # The agency's action list checks the household's consent from the index alone.
        batch_op.drop_index('ix_action_item_agency_status_due')
        batch_op.create_index('ix_action_item_agency_status_due', ['agency_id', 'status', 'due_on', 'household_id'],
                              unique=False)
    op.create_table(
        'packet_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('frozen_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_packet_snapshot_meeting_id_meeting'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_packet_snapshot')),
        sa.UniqueConstraint('meeting_id', name=op.f('uq_packet_snapshot_meeting_id')),
    )
    op.execute("UPDATE assessment_rating SET notes_level = 'sensitive' WHERE domain = 'health'")
    op.execute("UPDATE root_cause SET level = 'sensitive' WHERE domain = 'health'")
    op.execute("UPDATE action_item SET task_level = 'sensitive' WHERE domain = 'health'")
    op.execute("UPDATE agency_input SET facts_level = 'sensitive', opinion_level = 'sensitive', "
               "risk_level = 'sensitive' WHERE agency_id IN "
               f"(SELECT id FROM agency WHERE sector IN {SENSITIVE_SECTORS})")


def downgrade():
    op.drop_table('packet_snapshot')
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index('ix_action_item_agency_status_due')
        batch_op.create_index('ix_action_item_agency_status_due', ['agency_id', 'status', 'due_on'], unique=False)
        batch_op.drop_column('consent_override_reason')
    for table, columns in LEVEL_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_column(column)
