-- The stage is now followed from week to week (hub/stages.py): it moves when one week shows a
-- clear change, or when its level has left it behind. What a change is measured on is stored
-- beside it. promoter_message_share, promoter_start_share and contributing_share now cover the
-- rules' window (StageRules.window_weeks, two weeks by default; the promoters' shares over the
-- weeks they wrote), which the stage is read from.
ALTER TABLE community_stages ADD COLUMN promoter_messages_week BIGINT;  -- the promoters' messages that week
ALTER TABLE community_stages ADD COLUMN member_messages_week BIGINT;    -- the other members' messages that week
ALTER TABLE community_stages ADD COLUMN promoter_ratio_before DOUBLE;   -- promoters' messages per member message over the weeks before (median)
ALTER TABLE community_stages ADD COLUMN member_messages_before DOUBLE;  -- members' messages a week over those weeks (median)
ALTER TABLE community_stages ADD COLUMN stage_since DATE;              -- the week the stage was last set
ALTER TABLE community_stages ADD COLUMN moved_by VARCHAR;              -- that week: 'reading', 'change', 'level'; NULL if kept
