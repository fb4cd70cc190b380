-- What the derived tables were last built from, and what the running build plans to recompute
-- (warehouse/changes.py). Per community: a fingerprint of the raw inputs of each day (UTC), and
-- one of what is not per day (who is who, the rules, the promoters). `state` is 'built' for the
-- last complete build, 'planned' for the build under way.
CREATE TABLE derived_inputs (
    community    VARCHAR NOT NULL,
    state        VARCHAR NOT NULL,              -- built, planned
    day          BIGINT NOT NULL,               -- days since 1970-01-01, UTC
    fingerprint  UBIGINT NOT NULL
);

CREATE TABLE derived_state (
    community    VARCHAR NOT NULL,
    state        VARCHAR NOT NULL,              -- built, planned
    whole        VARCHAR NOT NULL,              -- fingerprint of the person mapping, rules and promoters
    "at"         TIMESTAMPTZ NOT NULL,
    everything   BOOLEAN NOT NULL,              -- planned: recompute the community whole
    since_week   DATE,                          -- planned: else recompute from this week (NULL: nothing)
    PRIMARY KEY (community, state)
);
