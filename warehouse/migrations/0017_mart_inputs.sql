-- What each community's rows of each mart were last built from (warehouse/marts.py): a build whose
-- inputs did not change, and whose rows are still as many, leaves those rows as they are.
CREATE TABLE mart_inputs (
    mart         VARCHAR NOT NULL,
    community    VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,             -- of the messages and account names it reads, the zone and the SQL
    "rows"       BIGINT NOT NULL               -- the rows it then had: rows deleted or added by hand are seen
);
