-- The promoters' prominence: how many times an active member's messages they wrote over the
-- rules' window (their messages per member message, times the members who wrote over the four
-- weeks ending with the week). Unlike their share of messages, it reads the same in a community of
-- 60 as in one of 300; consolidation is read from it (StageRules.consolidation_max_promoter_prominence).
-- Rows stored before it have NULL until the next build recomputes them (the rules changed with it).
ALTER TABLE community_stages ADD COLUMN promoter_prominence DOUBLE;
