-- A member's reputation week by week, as the sum of named parts a promoter can read. Each part
-- is a weekly count decayed with a half-life (what was done long ago counts less), and the
-- reputation is the weighted sum of the parts with the weights in `hub.scoring` (overridable per
-- community): reputation = sum(weight_<part> * <part>).
CREATE TABLE member_scores (
    community              VARCHAR NOT NULL,
    person_id              VARCHAR NOT NULL,
    week                   DATE NOT NULL,
    reputation             DOUBLE NOT NULL,
    level                  VARCHAR NOT NULL,   -- observer, participant, contributor, ambassador
    messages               DOUBLE NOT NULL,    -- what they wrote (forwards excluded)
    conversations_started  DOUBLE NOT NULL,    -- their messages that others replied to
    answers                DOUBLE NOT NULL,    -- their replies to someone else's question
    media_and_links        DOUBLE NOT NULL,    -- their messages with media or a link
    welcomes               DOUBLE NOT NULL,    -- replies, reactions, mentions to members in their first 30 days
    replies_received       DOUBLE NOT NULL,    -- distinct others who replied to them, per week
    reactions_received     DOUBLE NOT NULL,    -- distinct others who reacted to them, per week
    reach                  DOUBLE NOT NULL     -- distinct others they interacted with, either way, per week
);
