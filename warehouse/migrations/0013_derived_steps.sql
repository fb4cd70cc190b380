-- Which derived steps have carried out the plan under way (warehouse/changes.py): the plan is
-- recorded as built only once every step has, so a step materialized on its own in the UI does
-- not mark the others done.
CREATE TABLE derived_steps (
    community    VARCHAR NOT NULL,
    step         VARCHAR NOT NULL               -- interactions, community_health, member_scores, community_stages
);
