-- One row that every load (a file, or a live sync's unit) updates in its transaction.
-- On DuckLake, loads run at once on many machines, and two transactions that insert the same new
-- rows (one account, the messages of two overlapping exports) would both commit: no key stops
-- them, and neither saw the other's rows when it deduplicated. Two that update this row cannot:
-- DuckLake refuses the second commit, the load is done again, sees the first's rows, and adds only
-- what is new. Files are still read and staged in parallel; only their short merges take turns.
-- On a DuckDB file (one writer at a time) the update costs nothing.
CREATE TABLE load_turns (turn BIGINT NOT NULL);
INSERT INTO load_turns VALUES (0);
