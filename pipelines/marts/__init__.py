"""Derived tables, rebuilt whenever an export file has been loaded."""
