"""The Dagster definitions load, and every asset and check materializes in-process."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from hub.simulate import simulate
from hub.simulate.whatsapp import write_export
from pipelines.definitions import build_definitions, defs
from pipelines.exports.assets import core_tables, export_files, raw_export_file
from pipelines.exports.checks import no_orphan_authors, timestamps_within_export_range, unique_message_ids
from pipelines.exports.sensors import export_inbox_sensor
from pipelines.marts.assets import member_weekly_activity
from pipelines.resources import HubSettings, warehouse_resource

CHECKS = [unique_message_ids, no_orphan_authors, timestamps_within_export_range]


def test_definitions_are_loadable() -> None:
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"raw_export_file", "core_tables", "member_weekly_activity", "persons", "interactions",
                    "community_health", "member_scores", "community_stages", "community_reports"}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    sim = simulate(members=25, days=45, seed=11)
    write_export(sim, folder, "android_en_gb")
    write_export(simulate(members=15, days=30, seed=12, name="Ambassadors"), folder / "ios", "ios_en_us")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden files are not exports
    return folder


def test_every_asset_and_check_materializes(tmp_path: Path, inbox: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    resources = {"duckdb": warehouse_resource(db),
                 "hub": HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"))}
    instance = dg.DagsterInstance.ephemeral()
    keys = sorted(str(p.resolve()) for p in inbox.rglob("*") if p.is_file() and not p.name.startswith("."))
    instance.add_dynamic_partitions(export_files.name, keys)
    for key in keys:
        result = dg.materialize([raw_export_file, core_tables, *CHECKS], partition_key=key,
                                instance=instance, resources=resources)
        assert result.success
        assert {(e.check_name, e.passed) for e in result.get_asset_check_evaluations()} == {
            ("unique_message_ids", True), ("no_orphan_authors", True), ("timestamps_within_export_range", True)}
        (core,) = [m for m in result.get_asset_materialization_events() if m.asset_key == core_tables.key]
        metadata = core.materialization.metadata
        assert metadata["quarantined"].value == 0 and metadata["new"].value > 100
    mart = dg.materialize([member_weekly_activity], instance=instance, resources=resources)
    assert mart.success
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_files").fetchone() == (2,)
        assert con.execute("SELECT count(DISTINCT channel_id) FROM messages").fetchone() == (2,)
        assert con.execute("SELECT sum(messages) FROM member_weekly_activity").fetchone() == \
            con.execute("SELECT count(*) FROM messages WHERE kind = 'message'").fetchone()
        stored = [Path(p) for (p,) in con.execute("SELECT stored_as FROM raw_files").fetchall()]
    assert all(p.exists() and str(tmp_path / "raw") in str(p) for p in stored)
    # The people assets, then the report of each community: a file, linked from the asset's metadata.
    resources["hub"] = HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"), reports=str(tmp_path / "reports"))
    from pipelines.people.assets import build as people_assets
    from pipelines.reports.assets import build as report_asset

    people = people_assets([core_tables])
    built = dg.materialize([*people, report_asset(people)], instance=instance, resources=resources)
    assert built.success
    events = {e.asset_key.to_user_string(): e.materialization.metadata for e in built.get_asset_materialization_events()}
    assert "| member | level | reputation |" in events["member_scores"]["top members in the latest week"].value
    (page,) = (tmp_path / "reports").glob("*.html")
    assert events["community_reports"]["path"].value == str(page.resolve()) and page.stat().st_size > 100_000


def written_a_while_ago(*paths: Path) -> None:
    """As if the files had landed minutes ago: complete, so the sensor requests them at first sight
    (a file written just now waits for a tick that finds it unchanged: tests/test_concurrency.py)."""
    before = time.time() - 120
    for path in paths:
        for file in [path, *path.rglob("*")] if path.is_dir() else [path]:
            os.utime(file, (before, before))


def test_the_inbox_sensor_adds_partitions_and_requests_runs(tmp_path: Path, inbox: Path) -> None:
    written_a_while_ago(inbox)
    instance = dg.DagsterInstance.ephemeral()
    settings = HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"))
    context = dg.build_sensor_context(instance=instance, resources={"hub": settings})
    result = export_inbox_sensor(context)
    paths = sorted(str(p.resolve()) for p in inbox.rglob("*") if p.is_file() and not p.name.startswith("."))
    assert sorted(r.partition_key for r in result.run_requests) == paths
    assert result.dynamic_partitions_requests[0].partition_keys == paths
    # Nothing changed: nothing to do. A new file: one run, one new partition.
    instance.add_dynamic_partitions(export_files.name, paths)
    again = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor,
                                                        resources={"hub": settings}))
    assert again.run_requests == [] and again.dynamic_partitions_requests == []
    new = write_export(simulate(members=10, days=10, seed=13, name="Newcomers"), inbox, "android_de")
    written_a_while_ago(new)
    third = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=again.cursor,
                                                        resources={"hub": settings}))
    assert [r.partition_key for r in third.run_requests] == [str(new.resolve())]
    assert third.dynamic_partitions_requests[0].partition_keys == [str(new.resolve())]
    assert set(json.loads(third.cursor)["requested"]) == set(paths) | {str(new.resolve())}


def test_a_folder_export_is_loaded_only_once_seen_whole_on_two_ticks(tmp_path: Path) -> None:
    """unzip and `cp -a` give copied files their old times: a Slack export half copied looks a minute
    old. A folder waits for a second tick that sees it unchanged; a lone file a minute old does not."""
    from hub.simulate import slack as sim_slack

    inbox = tmp_path / "inbox"
    folder = sim_slack.write_export(sim_slack.workspace(simulate(members=8, days=10, seed=3)), inbox / "Makers Slack")
    chat = write_export(simulate(members=6, days=5, seed=4), inbox, "android_en_gb")
    written_a_while_ago(inbox)
    instance = dg.DagsterInstance.ephemeral()
    settings = HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"))
    first = export_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub": settings}))
    assert [r.partition_key for r in first.run_requests] == [str(chat.resolve())]
    next(folder.glob("*/*.json")).with_name("2030-01-01.json").write_text("[]")  # the copy goes on,
    written_a_while_ago(folder)  # its files keeping their old times
    second = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                         resources={"hub": settings}))
    assert second.run_requests == []
    third = export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor,
                                                        resources={"hub": settings}))
    assert [r.partition_key for r in third.run_requests] == [str(folder.resolve())]


@pytest.mark.skipif(os.name != "posix" or os.uname().sysname == "Darwin",
                    reason="only Linux file systems take a file name that is not UTF-8: macOS and Windows "
                           "refuse to create one, so such a file cannot reach the inbox there")
def test_a_file_named_not_in_utf8_is_said_and_holds_back_no_other(tmp_path: Path, inbox: Path, capfd) -> None:
    """Dagster's storage takes no such partition key: asked for, it failed the tick, every tick."""
    odd = Path(os.fsdecode(os.fsencode(inbox) + b"/WhatsApp Chat with Jos\xe9.txt"))
    odd.write_text("01/03/2024, 10:00 - Ana: hola\n")
    written_a_while_ago(inbox)
    instance = dg.DagsterInstance.ephemeral()
    settings = HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"))
    result = export_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub": settings}))
    keys = result.dynamic_partitions_requests[0].partition_keys
    instance.add_dynamic_partitions(export_files.name, keys)  # what the daemon does with them
    assert str(odd) not in keys and sorted(r.partition_key for r in result.run_requests) == keys
    assert len(keys) == 2
    said = capfd.readouterr().err  # (the sensor's log)
    assert f"{inbox}/WhatsApp Chat with Jos\\xe9.txt: its name is not UTF-8" in said and "rename it" in said
    export_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"hub": settings}))
    assert "not UTF-8" not in capfd.readouterr().err  # said once, not every tick


def test_configured_inboxes_are_watched(tmp_path: Path) -> None:
    (tmp_path / "makers").mkdir()
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n    sources:\n      - platform: whatsapp\n        inbox: makers\n")
    settings = HubSettings(config_path=str(config), inbox=str(tmp_path / "default-inbox"))
    assert settings.inboxes() == [tmp_path / "default-inbox", tmp_path / "makers"]
    assert build_definitions(str(tmp_path / "w.duckdb"), settings) is not None


def test_a_configured_slack_workspace_gets_a_partition_a_schedule_and_syncs(tmp_path: Path, monkeypatch) -> None:
    from fakes.slack_api import serve, sample_workspace

    with serve(sample_workspace()) as fake:
        config = tmp_path / "hub.yaml"
        config.write_text("communities:\n  - slug: makers\n    sources:\n      - platform: slack\n"
                          f"        token_env: MAKERS_SLACK_TOKEN\n        base_url: {fake.url}/api/\n")
        monkeypatch.setenv("MAKERS_SLACK_TOKEN", fake.token)
        settings = HubSettings(config_path=str(config), inbox=str(tmp_path / "inbox"), raw_store=str(tmp_path / "raw"))
        built = build_definitions(str(tmp_path / "w.duckdb"), settings)
        dg.Definitions.validate_loadable(built)
        assert [s.name for s in built.schedules] == ["sync_slack_makers"]
        slack_asset = built.resolve_assets_def("slack_workspace")  # carries the resources it was built with
        result = dg.materialize([slack_asset], partition_key="makers", instance=dg.DagsterInstance.ephemeral())
        assert result.success
        (event,) = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        assert metadata["new messages"].value == 26 and metadata["skipped channels"].value == "C03ANNOUNCE (not_in_channel)"
        assert fake.token not in str(metadata)


def test_a_configured_telegram_bot_is_polled_on_a_schedule(tmp_path: Path, monkeypatch) -> None:
    from fakes.telegram_api import sample_updates, serve

    with serve(sample_updates()) as fake:
        config = tmp_path / "hub.yaml"
        config.write_text("communities:\n  - slug: makers\n    sources:\n      - platform: telegram\n"
                          f"        token_env: MAKERS_TELEGRAM_TOKEN\n        base_url: {fake.url}/bot\n")
        monkeypatch.setenv("MAKERS_TELEGRAM_TOKEN", fake.token)
        settings = HubSettings(config_path=str(config), inbox=str(tmp_path / "inbox"), raw_store=str(tmp_path / "raw"))
        built = build_definitions(str(tmp_path / "w.duckdb"), settings)
        dg.Definitions.validate_loadable(built)
        assert [s.name for s in built.schedules] == ["poll_telegram_makers"]
        bot = built.resolve_assets_def("telegram_bot")
        result = dg.materialize([bot], partition_key="makers", instance=dg.DagsterInstance.ephemeral())
        assert result.success
        (event,) = result.get_asset_materialization_events()
        metadata = event.materialization.metadata
        assert (metadata["updates"].value, metadata["new messages"].value) == (6, 2)
        assert fake.pending() == []  # confirmed by the poll after the committed page
        assert fake.token not in str(metadata)


def test_any_file_name_is_a_partition_key(tmp_path: Path) -> None:
    """Dynamic partition keys take any path, dots and brackets included: no export is left out."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    odd = inbox / "WhatsApp Chat with A...B [old].txt"
    odd.write_text("27/03/2022, 21:41 - Ana: hi\n")
    written_a_while_ago(odd)
    instance = dg.DagsterInstance.ephemeral()
    result = export_inbox_sensor(dg.build_sensor_context(instance=instance, resources={
        "hub": HubSettings(inbox=str(inbox), raw_store=str(tmp_path / "raw"))}))
    assert [r.partition_key for r in result.run_requests] == [str(odd.resolve())]
    instance.add_dynamic_partitions(export_files.name, [str(odd.resolve())])
    assert instance.get_dynamic_partitions(export_files.name) == [str(odd.resolve())]


def _land(tmp_path: Path, config: Path, file: Path) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(export_files.name, [str(file.resolve())])
    resources = {"duckdb": warehouse_resource(tmp_path / "warehouse.duckdb"),
                 "hub": HubSettings(config_path=str(config), raw_store=str(tmp_path / "raw"))}
    return dg.materialize([raw_export_file, core_tables], partition_key=str(file.resolve()), instance=instance,
                          resources=resources, raise_on_error=False)


def test_the_pipeline_reads_a_file_as_its_configured_source_says(tmp_path: Path) -> None:
    """A chat whose first message is a long paste: its content alone does not tell WhatsApp, and the
    source's `platform:` does, as it does for `hub ingest --config`."""
    inbox = tmp_path / "makers"
    inbox.mkdir()
    chat = inbox / "WhatsApp Chat with Makers.txt"
    notes = "".join(f"line {i} of the meeting's minutes, pasted whole\n" for i in range(500))
    chat.write_text(f"01/03/2024, 10:00 - Ana: Minutes:\n{notes}01/03/2024, 10:01 - Bob: thanks\n")
    config = tmp_path / "hub.yaml"
    config.write_text(f"communities:\n  - slug: makers\n    sources:\n      - {{platform: whatsapp, inbox: {inbox}}}\n")
    result = _land(tmp_path, config, chat)
    assert result.success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT community, count(*) FROM messages GROUP BY 1").fetchall() == [("makers", 2)]


def test_a_file_no_community_takes_fails_and_changes_nothing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    chat = write_export(simulate(members=6, days=5, seed=4), inbox, "android_en_gb")
    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n  - slug: makers\n  - slug: club\n")
    result = _land(tmp_path, config, chat)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    said = failure.step_failure_data.error.message
    assert f"{chat.resolve()}: several communities are configured and no source of hub.yaml holds this file: move " \
           "it into the inbox of its community (makers, club)" in said and "--community" not in said
    assert not (tmp_path / "raw").exists()
    if (tmp_path / "warehouse.duckdb").exists():
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM raw_files").fetchone() == (0,)


def test_live_sources_of_one_community_never_take_another_communitys_key(tmp_path: Path) -> None:
    # `makers` has two bots; a community named `makers-1` has one: three partitions, three schedules.
    from hub.config import load_config
    from pipelines.live import live_sources

    config = tmp_path / "hub.yaml"
    config.write_text("communities:\n"
                      "  - slug: makers\n    sources:\n"
                      "      - {platform: telegram, token_env: TG_A}\n      - {platform: telegram, token_env: TG_B}\n"
                      "  - slug: makers-1\n    sources:\n      - {platform: telegram, token_env: TG_C}\n")
    found = live_sources(load_config(config), "telegram")
    assert {k: s.token_env for k, (_, s) in found.items()} == {"makers": "TG_A", "makers.tg_b": "TG_B",
                                                                 "makers-1": "TG_C"}
    definitions = build_definitions(str(tmp_path / "hub.duckdb"), HubSettings(config_path=str(config)))
    dg.Definitions.validate_loadable(definitions)
    names = {s.name for s in definitions.schedules if s.name.startswith("poll_telegram")}
    assert names == {"poll_telegram_makers", "poll_telegram_makers__tg_b", "poll_telegram_makers_1"}


def test_adding_a_live_source_renames_no_other(tmp_path: Path) -> None:
    """The first bot's partition (its runs' history) and schedule keep their names when a second comes."""
    from hub.config import load_config
    from pipelines.live import live_sources

    config = tmp_path / "hub.yaml"
    one = "communities:\n  - slug: makers\n    sources:\n      - {platform: slack, token_env: SLACK_A}\n"
    config.write_text(one)
    before = {k: s.token_env for k, (_, s) in live_sources(load_config(config), "slack").items()}
    config.write_text(one + "      - {platform: slack, token_env: SLACK_B}\n")
    after = {k: s.token_env for k, (_, s) in live_sources(load_config(config), "slack").items()}
    assert before == {"makers": "SLACK_A"} and after == {"makers": "SLACK_A", "makers.slack_b": "SLACK_B"}


def test_metadata_tables_keep_their_cells() -> None:
    from pipelines.metadata import md_table

    table = md_table(["member", "messages"], [("Ana | Admin", 10), ("two\nlines", 1234)]).value
    assert table.splitlines()[2:] == ["| Ana \\| Admin | 10 |", "| two lines | 1,234 |"]


def test_messages_older_than_whatsapp_are_fine_on_facebook(tmp_path: Path) -> None:
    from warehouse.checks import timestamps_within_export_range as check
    from warehouse.db import connect

    with connect(tmp_path / "hub.duckdb") as con:
        con.execute("""INSERT INTO sources (source_id, platform, community, path, sha256, bytes, ingested_at, records,
                                            quarantined, first_at, last_at)
                       VALUES ('s', 'facebook', 'c', 'fb.json', 'x', 1, now(), 1, 0, '2008-03-01', '2008-04-01'),
                              ('t', 'whatsapp', 'c', 'wa.txt', 'y', 1, now(), 1, 0, '2008-03-01', '2008-04-01')""")
        con.execute("""INSERT INTO messages (message_id, platform, community, channel_id, sent_at, kind, source_id,
                                             has_media)
                       VALUES ('f', 'facebook', 'c', 'ch', '2008-03-02', 'message', 's', false),
                              ('w', 'whatsapp', 'c', 'ch', '2008-03-02', 'message', 't', false)""")
        assert check(con, "fb.json")[0] and not check(con, "wa.txt")[0]
