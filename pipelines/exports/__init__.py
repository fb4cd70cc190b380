"""Export files (WhatsApp today; every file-based platform later): inbox -> raw -> core tables."""
