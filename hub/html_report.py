"""The community report a promoter opens or shares: one self-contained HTML page (charts drawn by
Apache ECharts, bundled in the page: no network at all), or Markdown with SVG charts beside it, or
CSV files.

All numbers come from the warehouse's SQL (`warehouse/report_data.py`), read on any connection,
a read-only one included; this module only shapes and lays them out. The HTML page carries every
number it shows in `<script id="report-data" type="application/json">`, so each can be traced to
its table. Member names are untrusted: Jinja2 escapes them in the page, the JSON blob escapes
`<`, `>`, `&` and `'`, and the charts draw them as text, never as HTML.

A period is whole weeks (Monday to Sunday, in the community's time zone), those overlapping
[start, end]; by default every week of `community_health`. It is compared with the period of as
many weeks just before it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import datetime as dt
import math
from importlib import resources
from pathlib import Path

import duckdb
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from hub.privacy import masked
from hub.rules import DEFAULT_WEIGHTS
from hub.rules import STAGES
from warehouse import report_data as sql
from warehouse.scores import PARTS

ECHARTS_VERSION = "5.6.0"  # hub/assets/echarts.min.js, from the npm package echarts (LICENSE beside it)
TOP_MEMBERS = 50  # rows of the member tables
NETWORK_NODES = 150  # persons drawn in the network: the promoters, then those with most interactions
NETWORK_EDGES = 1000  # pairs drawn among them, heaviest first
FLAGS = ("ambassador", "new_promising", "drifting")
FLAG_TITLES = {"ambassador": "Ambassadors", "new_promising": "New and promising", "drifting": "Drifting"}
HEADLINE = ("messages", "active_members", "contributors", "new_members")
PART_TITLES = {"messages": "messages", "conversations_started": "conversations started", "answers": "answers",
               "media_and_links": "media and links", "welcomes": "welcomes", "replies_received": "replies received",
               "reactions_received": "reactions received", "reach": "reach"}


class ReportError(Exception):
    """The community cannot be reported (unknown, or its derived tables not built): says what to do."""


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def report_data(con: duckdb.DuckDBPyConnection, community: str, *, start: dt.date | None = None,
                end: dt.date | None = None, weights: dict[str, float] | None = None,
                promoters: list[str] | tuple[str, ...] = (), show_phones: bool = False) -> dict:
    """Every number of the report, JSON-ready (dates as ISO text; a platform of None is all
    platforms together, as in the warehouse).

    `weights` are the community's reputation weights (`HubConfig.rules(slug).scoring.weights`;
    default: the defaults), `promoters` its promoters' person ids (`hub.stages.promoters`).
    Phone numbers in names are masked unless `show_phones` (hub/privacy.py).
    """
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    info = sql.community(con, community)
    if info is None:
        raise ReportError(f"no community {community!r} in the warehouse")
    if info["first_week"] is None:
        raise ReportError(f"community {community!r} has no derived tables yet: run hub build")
    tz = info["timezone"]
    first = monday(start) if start else info["first_week"]
    last = monday(end) if end else info["last_week"]
    if last < first:
        raise ReportError(f"the period ends in the week of {last} but starts in the week of {first}: the data "
                          f"covers the weeks of {info['first_week']} to {info['last_week']}")
    weeks = (last - first).days // 7 + 1
    previous = first - dt.timedelta(weeks=weeks)

    as_of = sql.scores_week(con, community, first, last)
    weekly = sql.weekly(con, community, tz, first, last)
    stage_rows = sql.stages(con, community, first, last)
    top = sql.top_members(con, community, as_of, TOP_MEMBERS) if as_of else []
    flagged, flag_counts = sql.flags(con, community, as_of, TOP_MEMBERS) if as_of else ([], {})
    network = sql.network(con, community, tz, first, last, list(promoters), week=as_of,
                          nodes=NETWORK_NODES, edges=NETWORK_EDGES)
    combined = [w for w in weekly if w["platform"] is None]
    new = sum(w["new_members"] for w in combined)
    active_30d = sum(w["new_members_active_30d"] for w in combined)
    data = {
        "community": {"slug": community, "name": info["name"], "timezone": tz},
        "period": {"start": first, "end": last + dt.timedelta(days=6), "first_week": first, "last_week": last,
                   "weeks": weeks, "previous_first_week": previous, "previous_last_week": first - dt.timedelta(weeks=1),
                   "as_of_week": as_of},
        "platforms": sql.platforms(con, community),
        "headline": _headline(sql.headline(con, community, tz, first, last, previous)),
        "weekly": weekly,
        "stages": stage_rows,
        "stage_runs": _runs([s for s in stage_rows if s["platform"] is None]),
        "latest_stage": next((s for s in reversed(stage_rows) if s["platform"] is None), None),
        "stage_names": {str(k): v for k, v in STAGES.items()},
        "weights": weights,
        "parts": list(PARTS),
        "members_scored": sql.member_count(con, community, as_of) if as_of else 0,
        "top_members": [_parts(m, weights) for m in top],
        "flags": {f: [m for m in flagged if m["flag"] == f] for f in FLAGS},
        "flag_counts": {f: flag_counts.get(f, 0) for f in FLAGS},
        "network": network,
        "promoters": sorted(promoters),
        "newcomers": {"new_members": new, "active_30d": active_30d,
                      "activation": active_30d / new if new else None},
    }
    return masked(_jsonable(data), show_phones)


def _headline(rows: list[dict]) -> list[dict]:
    """Per scope: each figure now, before, and the change."""
    out: dict = {}
    for row in rows:
        scope = out.setdefault(row["platform"], {"platform": row["platform"]})
        for key in HEADLINE:
            scope.setdefault(key, {})["current" if row["period"] == "current" else "previous"] = row[key]
    for scope in out.values():
        for key in HEADLINE:
            figure = scope[key]
            figure["change"] = figure["current"] - figure["previous"]
            figure["change_pct"] = figure["change"] / figure["previous"] if figure["previous"] else None
    return list(out.values())


def _runs(weeks: list[dict]) -> list[dict]:
    """Consecutive weeks of one stage, each with the reason of its first week: the move that set
    the stage (its later weeks only say since when it holds)."""
    runs: list[dict] = []
    for w in weeks:
        if runs and runs[-1]["stage"] == w["stage"]:
            # Counted on the calendar: a week without a message has no stage row, and passed all the same.
            runs[-1].update(to_week=w["week"], weeks=(w["week"] - runs[-1]["from_week"]).days // 7 + 1)
        else:
            runs.append({"stage": w["stage"], "from_week": w["week"], "to_week": w["week"], "weeks": 1,
                         "reason": w["reason"]})
    return runs


def _parts(member: dict, weights: dict[str, float]) -> dict:
    parts = {p: {"value": member.pop(p), "weight": weights[p]} for p in PARTS}
    for part in parts.values():
        part["points"] = part["value"] * part["weight"]
    return {**member, "parts": parts}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k) if k is not None else "": _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------------------- HTML

def _asset(name: str) -> str:
    return resources.files("hub").joinpath("assets", name).read_text(encoding="utf-8")


def _script(code: str) -> Markup:
    """JavaScript to inline in a <script> element: it cannot close the element early."""
    return Markup(code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT"))


def _environment() -> Environment:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=_num, pct=_pct, signed=_signed, scope=_scope, flag_title=FLAG_TITLES.get,
                       part_title=PART_TITLES.get)
    return env


def _num(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) or digits else f"{value:,}"


def _pct(value, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def _signed(value, kind: str = "num") -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value * 100:+.0f}%"
    return f"{value:+,}"


def _scope(platform: str | None) -> str:
    return platform or "all platforms"


def _csp_hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode() + "'"


def render_html(data: dict) -> str:
    """The page of `report_data`'s figures. Its Content-Security-Policy lets nothing load, and
    runs only its own two scripts (by hash): not even an inline handler that slipped in could."""
    template = _environment().from_string(_asset("report.html.j2"))
    library, script = _script(_asset("echarts.min.js")), _script(_asset("report.js"))
    return template.render(d=data, data=data, echarts=library, script=script, stages=STAGES,
                           script_hashes=Markup(" ".join(_csp_hash(c) for c in (library, script))),
                           echarts_version=ECHARTS_VERSION, top_n=TOP_MEMBERS,
                           generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write_html_report(con: duckdb.DuckDBPyConnection, community: str, out: Path, *, start: dt.date | None = None,
                      end: dt.date | None = None, weights: dict[str, float] | None = None,
                      promoters: list[str] | tuple[str, ...] = (), show_phones: bool = False) -> Path:
    """One self-contained HTML file at `out` (its folder is made); returns `out`."""
    data = report_data(con, community, start=start, end=end, weights=weights, promoters=promoters,
                       show_phones=show_phones)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    return out


# ------------------------------------------------------------------------------------ Markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|~&"} | {"\n": " ", "\r": " "})


def _md(text) -> str:
    """Untrusted text as Markdown that shows it literally (no links, no HTML, no table break)."""
    return str(text).translate(_MD_SPECIAL)


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def write_markdown_report(con: duckdb.DuckDBPyConnection, community: str, out: Path, *,
                          start: dt.date | None = None, end: dt.date | None = None,
                          weights: dict[str, float] | None = None,
                          promoters: list[str] | tuple[str, ...] = (), show_phones: bool = False) -> Path:
    """The report as Markdown at `out`, its charts as SVG files beside it (`<stem>-*.svg`)."""
    d = report_data(con, community, start=start, end=end, weights=weights, promoters=promoters,
                       show_phones=show_phones)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    charts = _svg_charts(d, out.parent, out.stem)
    p = d["period"]
    lines = [f"# {_md(d['community']['name'])}: community report", "",
             f"Weeks {p['first_week']} to {p['last_week']} ({p['weeks']} weeks, {d['community']['timezone']}); "
             f"compared with {p['previous_first_week']} to {p['previous_last_week']}. "
             f"Members read at the week of {p['as_of_week'] or '–'}.", ""]
    lines += ["## Headline", ""]
    lines += _table(["platform"] + [k.replace("_", " ") for k in HEADLINE],
                    [[_scope(h["platform"])] + [_num(h[k]["current"]) + (
                        f" ({_signed(h[k]['change'])}, {_signed(h[k]['change_pct'], 'pct')})" if h[k]["previous"]
                        else " (none before)") for k in HEADLINE] for h in d["headline"]])
    lines += ["## Weekly activity", ""]
    lines += [f"![messages, active members and contributors per week]({charts['activity']})", ""] \
        if "activity" in charts else []
    scopes = [None] + d["platforms"]
    by_week: dict[str, dict] = {}
    for w in d["weekly"]:
        by_week.setdefault(w["week"], {})[w["platform"]] = w
    lines += ["Messages / active members / contributors:", ""]
    lines += _table(["week"] + [_scope(p) for p in scopes],
                    [[week] + [" / ".join(_num(r[p][k]) for k in ("messages", "active_members", "contributors"))
                               for p in scopes] for week, r in by_week.items()])
    lines += ["## Stage", ""]
    if d["latest_stage"]:
        s = d["latest_stage"]
        lines += [f"Week of {s['week']}: **stage {s['stage']}, {STAGES[s['stage']]}**: {_md(s['reason'])}.", ""]
    if "stages" in charts:
        lines += [f"![stages]({charts['stages']})", ""]
    lines += _table(["from", "to", "weeks", "stage", "reason (its first week)"],
                    [[r["from_week"], r["to_week"], r["weeks"], f"{r['stage']} {STAGES[r['stage']]}", _md(r["reason"])]
                     for r in d["stage_runs"]])
    lines += [f"## Top members (week of {p['as_of_week'] or '–'}, {d['members_scored']:,} members scored)", "",
              "Reputation = Σ weight × part; each part column shows weight × part.", ""]
    lines += _table(["#", "member", "platforms", "level", "reputation"]
                    + [f"{PART_TITLES[k]} ×{d['weights'][k]:g}" for k in d["parts"]],
                    [[i + 1, _md(m["name"]), ", ".join(m["platforms"]), m["level"], _num(m["reputation"], 1)]
                     + [_num(m["parts"][k]["points"], 1) for k in d["parts"]]
                     for i, m in enumerate(d["top_members"])])
    for flag in FLAGS:
        members = d["flags"][flag]
        lines += [f"## {FLAG_TITLES[flag]} ({d['flag_counts'][flag]:,})", ""]
        lines += _table(["member", "platforms", "level", "evidence"],
                        [[_md(m["name"]), ", ".join(m["platforms"]), m["level"] or "", _md(m["evidence"])]
                         for m in members]) if members else ["None this week.", ""]
    f = d["network"]["figures"]
    lines += ["## Who interacts with whom", "",
              f"{f['interactions']:,} interactions between {f['persons']:,} persons ({f['pairs']:,} pairs). "
              f"Between members (promoters left out): density {_pct(f['density'], 1)}, "
              f"reciprocity {_pct(f['reciprocity'], 1)}.", ""]
    if "network" in charts:
        lines += [f"![the member-to-member network]({charts['network']})", ""]
    names = {n["person_id"]: n["name"] for n in d["network"]["nodes"]}
    lines += _table(["member", "member", "interactions", "one way", "the other"],
                    [[_md(names[e["source"]]), _md(names[e["target"]]), e["interactions"], e["forward"] or 0,
                      e["backward"] or 0] for e in d["network"]["edges"][:20]])
    n = d["newcomers"]
    lines += ["## Newcomers", "",
              f"{n['new_members']:,} new members, {n['active_30d']:,} of them wrote within 30 days "
              f"({_pct(n['activation'])}).", ""]
    if "newcomers" in charts:
        lines += [f"![new members and time to first reply per week]({charts['newcomers']})", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def _svg_charts(d: dict, folder: Path, stem: str) -> dict[str, str]:
    """Weekly activity, newcomers and time to reply, and stages, as SVG files; {name: file name}."""
    from matplotlib.figure import Figure  # only the Markdown report needs it
    import matplotlib

    weeks = sorted({dt.date.fromisoformat(w["week"]) for w in d["weekly"]})
    if not weeks:
        return {}
    scopes = [None] + d["platforms"]

    def series(key: str, platform: str | None) -> list:
        return [w[key] for w in d["weekly"] if w["platform"] == platform]

    made = {}
    with matplotlib.rc_context({"text.parse_math": False, "svg.hashsalt": "community-hub", "font.size": 9}):
        def save(fig: Figure, name: str) -> None:
            file = f"{stem}-{name}.svg"
            fig.savefig(folder / file, format="svg", metadata={"Date": None})
            made[name] = file

        fig = Figure(figsize=(9, 6), layout="constrained")
        axes = fig.subplots(3, 1, sharex=True)
        for ax, key in zip(axes, ("messages", "active_members", "contributors")):
            for platform in scopes:
                ax.plot(weeks, series(key, platform), label=_scope(platform), linewidth=2 if platform is None else 1)
            ax.set_ylabel(key.replace("_", " "))
        axes[0].legend(loc="upper left")
        axes[0].set_title("Per week")
        save(fig, "activity")

        fig = Figure(figsize=(9, 4.5), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True)
        new, active = series("new_members", None), series("new_members_active_30d", None)
        top.bar(weeks, new, width=5, label="new members", color="#9ab")
        top.bar(weeks, active, width=5, label="of them wrote within 30 days", color="#357")
        top.legend(loc="upper left")
        top.set_title("Newcomers and time to first reply")
        for platform in scopes:
            values = [math.nan if v is None else v for v in series("median_minutes_to_reply", platform)]
            bottom.plot(weeks, values, label=_scope(platform), marker=".")
        bottom.set_ylabel("median minutes\nto first reply")
        bottom.legend(loc="upper left")
        save(fig, "newcomers")

        combined = [s for s in d["stages"] if s["platform"] is None]
        if combined:
            fig = Figure(figsize=(9, 2.5), layout="constrained")
            ax = fig.subplots()
            ax.step([dt.date.fromisoformat(s["week"]) for s in combined], [s["stage"] for s in combined], where="post")
            ax.set_yticks([1, 2, 3, 4], [f"{k} {v}" for k, v in STAGES.items()])
            ax.set_ylim(0.5, 4.5)
            ax.set_title("Stage (all platforms)")
            save(fig, "stages")

        if d["network"]["nodes"]:
            save(_network_figure(d["network"]), "network")
    return made


def _network_figure(network: dict):
    """The member-to-member network on a circle, grouped by platform: a line per
    pair (darker, more interactions), promoters in red, the ten busiest named."""
    from matplotlib.figure import Figure

    nodes = sorted(network["nodes"], key=lambda n: (",".join(n["platforms"]), n["name"]))
    at = {n["person_id"]: (math.cos(2 * math.pi * i / len(nodes)), math.sin(2 * math.pi * i / len(nodes)))
          for i, n in enumerate(nodes)}
    fig = Figure(figsize=(7, 7), layout="constrained")
    ax = fig.subplots()
    heaviest = max((e["interactions"] for e in network["edges"]), default=1)
    busiest = max(max(n["interactions"] for n in nodes), 1)
    for e in network["edges"]:
        (x0, y0), (x1, y1) = at[e["source"]], at[e["target"]]
        ax.plot([x0, x1], [y0, y1], color="#357", linewidth=0.5, alpha=0.1 + 0.6 * e["interactions"] / heaviest)
    for n in nodes:
        x, y = at[n["person_id"]]
        ax.scatter([x], [y], s=12 + 60 * (n["interactions"] / busiest) ** 0.5,
                   color="#c33" if n["promoter"] else ("#e90" if n["ambassador"] else "#357"), zorder=3)
    for n in sorted(nodes, key=lambda n: -n["interactions"])[:10] + [n for n in nodes if n["promoter"]]:
        x, y = at[n["person_id"]]
        ax.annotate(n["name"], (x, y), xytext=(x * 1.08, y * 1.08), fontsize=7,
                    ha="left" if x >= 0 else "right", va="center")
    ax.set_xlim(-1.6, 1.6), ax.set_ylim(-1.4, 1.4), ax.set_aspect("equal"), ax.axis("off")
    ax.set_title("Who interacts with whom (red: promoters, orange: ambassadors)")
    return fig


# ----------------------------------------------------------------------------------------- CSV

def _cell(value):
    """Text a spreadsheet could take for a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, list):
        return ", ".join(value)
    return value


def write_csv_report(con: duckdb.DuckDBPyConnection, community: str, out: Path, *, start: dt.date | None = None,
                     end: dt.date | None = None, weights: dict[str, float] | None = None,
                     promoters: list[str] | tuple[str, ...] = (), show_phones: bool = False) -> Path:
    """The report's tables as CSV files in the folder `out` (made); returns `out`."""
    d = report_data(con, community, start=start, end=end, weights=weights, promoters=promoters,
                       show_phones=show_phones)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, list[dict]] = {
        "headline": [{"platform": _scope(h["platform"]), "figure": k, **h[k]} for h in d["headline"] for k in HEADLINE],
        "weekly": [{**w, "platform": _scope(w["platform"])} for w in d["weekly"]],
        "stages": [{**s, "platform": _scope(s["platform"])} for s in d["stages"]],
        "top_members": [{k: v for k, v in m.items() if k != "parts"}
                        | {f"{p}": m["parts"][p]["value"] for p in d["parts"]}
                        | {f"{p}_points": m["parts"][p]["points"] for p in d["parts"]} for m in d["top_members"]],
        "flags": [m for f in FLAGS for m in d["flags"][f]],
        "network_nodes": d["network"]["nodes"],
        "network_edges": d["network"]["edges"],
        "network_figures": [d["network"]["figures"]],
    }
    empty = {"flags": ["flag", "person_id", "name", "platforms", "level", "reputation", "evidence"],
             "network_nodes": ["person_id", "name", "platforms", "interactions", "given", "received", "level",
                               "ambassador", "promoter"],
             "network_edges": ["source", "target", "forward", "backward", "interactions"]}
    for name, rows in tables.items():
        with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            columns = list(rows[0]) if rows else empty.get(name, [])
            writer = csv.DictWriter(fh, columns)
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return out


FORMATS = ("html", "md", "csv")


def write_report(con: duckdb.DuckDBPyConnection, config, community: str, out: Path, kind: str = "html", *,
                 start: dt.date | None = None, end: dt.date | None = None, show_phones: bool = False) -> Path:
    """The community's report in `kind` (html, md or csv), with its weights and promoters taken
    from the configuration: what `hub report`, the demo and the Dagster asset all write."""
    from hub.stages import promoters

    writer = {"html": write_html_report, "md": write_markdown_report, "csv": write_csv_report}[kind]
    return writer(con, community, out, start=start, end=end, weights=config.rules(community).scoring.weights,
                  promoters=promoters(con, config, community), show_phones=show_phones)
