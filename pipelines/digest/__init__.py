"""The weekly digest of each community that names where to post it (`digest:` in hub.yaml)."""
