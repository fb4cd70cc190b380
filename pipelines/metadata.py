"""Asset metadata a person reads in the Dagster UI."""

import dagster as dg


def _cell(value: object) -> str:
    """A value in a Markdown table cell: a `|` in a name must not start another cell, nor a line break another row."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return " ".join(str(value).split()).replace("|", "\\|")


def md_table(headers: list[str], rows: list[tuple]) -> dg.MetadataValue:
    """A Markdown table; integers get thousands separators."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))
