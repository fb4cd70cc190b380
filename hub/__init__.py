"""Community Hub: the canonical model, configuration, identity, scoring, reports and the `hub` command."""

import os

# Polars' allocator (jemalloc), as Polars builds it, soon gives freed pages back to the system; a big
# export, parsed block after block, then faults the same amount in again: `hub ingest` of a 500 MB
# Telegram export made 800,000 page faults, 4 s of system time. Kept ten seconds, the pages are
# reused: half the faults, 1 s less (peak memory +100 MB, well under the bars). A user's own
# setting wins. Read once, when Polars first loads.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:10000,muzzy_decay_ms:10000")
