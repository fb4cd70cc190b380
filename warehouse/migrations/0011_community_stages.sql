-- Which stage a community is in, week by week (per platform, and NULL for all platforms), with
-- every indicator the stage was read from stored beside it. Indicators look at the four weeks
-- ending with `week`, so one odd week does not swing the stage.
CREATE TABLE community_stages (
    community                VARCHAR NOT NULL,
    platform                 VARCHAR,
    week                     DATE NOT NULL,
    stage                    INTEGER NOT NULL,  -- 1 lack of commitment, 2 movement, 3 mobilisation, 4 consolidation
    reason                   VARCHAR NOT NULL,  -- which indicators put it there
    messages                 BIGINT NOT NULL,
    active_members           BIGINT NOT NULL,   -- persons other than the promoters who wrote
    promoter_message_share   DOUBLE,            -- share of messages by the promoters
    promoter_start_share     DOUBLE,            -- share of conversation starts (messages replying to nothing) by them
    contributing_share       DOUBLE,            -- share of active members who replied to or mentioned another member
    ambassadors              BIGINT NOT NULL,   -- members flagged ambassador that week
    ambassadors_new          BIGINT NOT NULL,   -- of them, not ambassadors 12 weeks before (renewal)
    member_density           DOUBLE,            -- member-to-member pairs that interacted / possible pairs (promoters left out)
    reciprocity              DOUBLE,            -- member-to-member links that go both ways / links
    retention                DOUBLE,            -- members active 4 weeks before who are active again
    promoter_silent_weeks    BIGINT NOT NULL    -- of the four weeks, those the promoters wrote nothing while members did
);
