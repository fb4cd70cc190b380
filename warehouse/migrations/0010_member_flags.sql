-- Who to notice, week by week, with the evidence in words a promoter can check.
CREATE TABLE member_flags (
    community   VARCHAR NOT NULL,
    person_id   VARCHAR NOT NULL,
    week        DATE NOT NULL,
    flag        VARCHAR NOT NULL,               -- ambassador, new_promising, drifting
    evidence    VARCHAR NOT NULL
);
