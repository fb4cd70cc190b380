"""The promoters' report of every community, as a file (one HTML page each)."""
