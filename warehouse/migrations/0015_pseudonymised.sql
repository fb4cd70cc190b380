-- Pseudonymised communities (hub/pseudonyms.py): a fingerprint of the key their names and phone
-- numbers were replaced with, NULL for a community loaded as it is. A load that would mix the two
-- in one community, or use another key, is refused (warehouse/load.py).
ALTER TABLE communities ADD COLUMN pseudonym_check VARCHAR;
