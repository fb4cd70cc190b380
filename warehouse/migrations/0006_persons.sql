-- Identity resolution (hub/persons.py): which accounts, across platforms, are one person. Rebuilt
-- per community from accounts and the community's reviewed decisions file, never edited in place.
-- No PRIMARY KEY: each rebuild deletes and re-inserts a community's rows, and DuckDB's ART indexes
-- made that several times slower with every rebuild. The one writer (warehouse/persons.py)
-- writes each person, account and pair once.

-- A person: every non-bot account belongs to exactly one. person_id comes from the person's
-- smallest account_id, so recomputing gives the same ids.
CREATE TABLE persons (
    person_id     VARCHAR NOT NULL,            -- unique; person:<community>:<sha256 of the smallest account_id, 12 hex>
    community     VARCHAR NOT NULL,
    display_name  VARCHAR NOT NULL             -- the most recent full name among its accounts
);

CREATE TABLE person_accounts (
    person_id     VARCHAR NOT NULL,
    account_id    VARCHAR NOT NULL,            -- unique: an account is in one person only
    method        VARCHAR NOT NULL,            -- its strongest link to the person: reviewed, email, phone, handle; single if alone
    confidence    DOUBLE NOT NULL              -- of that link, in [0, 1]
);

-- Likely matches proposed to a reviewer, not merged (similar names on two platforms), and exact
-- matches a never_merge decision kept apart (confidence 0, the reason says which).
CREATE TABLE identity_suggestions (
    community        VARCHAR NOT NULL,
    account_id       VARCHAR NOT NULL,         -- the smaller id of the pair; a pair is listed once
    other_account_id VARCHAR NOT NULL,
    confidence       DOUBLE NOT NULL,          -- in [0, 1]
    reason           VARCHAR NOT NULL
);
