"""Asset metadata a person reads in the Dagster UI."""

import dagster as dg


def md_table(headers: list[str], rows: list[tuple]) -> dg.MetadataValue:
    """A Markdown table; integers get thousands separators."""
    cell = lambda v: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))
