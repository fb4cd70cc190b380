-- One row that every write transaction updates (warehouse/db.py take_turn): loads, derived tables,
-- merges and splits of persons, forgetting.
-- On DuckLake, writers run at once on many machines, and two transactions that insert the same
-- new rows (one account, the messages of two overlapping exports, a community's first rows of a
-- derived table) would both commit: no key stops them, and neither saw the other's rows. Two that
-- update this row cannot: DuckLake refuses the second commit, the work is done again, sees the
-- first's rows, and adds only what is new. Files are still read and staged in parallel; only the
-- short transactions that write take turns. A DuckDB file (one writer at a time) never updates it.
CREATE TABLE write_turns (turn BIGINT NOT NULL);
INSERT INTO write_turns VALUES (0);
