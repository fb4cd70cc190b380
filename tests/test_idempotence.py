"""Re-ingesting adds nothing twice; a failed load leaves the warehouse as it was."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.files import content_digest
from hub.config import HubConfig
from hub.ingest import ingest_file
from hub.model import Batch
from hub.prehash import Prehashed
from hub.simulate import simulate
from hub.simulate.whatsapp import render
from warehouse.load import SourceFile, load

TABLES = ["sources", "channels", "accounts", "messages", "membership_events", "quarantine", "communities"]


def counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_same_file_twice_adds_nothing(tmp_path: Path, con) -> None:
    path = tmp_path / "WhatsApp Chat with Makers.txt"
    path.write_text(render(simulate(members=30, days=40, seed=5), "android_en_gb"))
    first = ingest_file(con, path, config=HubConfig())
    before = counts(con)
    skipped = ingest_file(con, path, config=HubConfig())  # unchanged file: recognised by its hash
    assert skipped.skipped and skipped.result.new == 0 and skipped.result.duplicate == first.result.records
    forced = ingest_file(con, path, config=HubConfig(), force=True)  # read again: every row a duplicate
    assert (forced.result.new, forced.result.duplicate) == (0, first.result.records)
    assert counts(con) == before
    assert con.execute("SELECT count(*) = count(DISTINCT message_id) FROM messages").fetchone() == (True,)


def test_a_file_hashed_ahead_is_recorded_by_its_own_hash_even_if_changed_since(tmp_path: Path, con) -> None:
    # hub ingest hashes its files while it starts up: a file written again in between must be
    # hashed again, or its new messages would be skipped as "already loaded".
    path = tmp_path / "WhatsApp Chat with Makers.txt"
    path.write_text(render(simulate(members=30, days=40, seed=5), "android_en_gb"))
    prehashed = Prehashed([path, tmp_path / "missing.txt", tmp_path])
    assert prehashed.digest(path) == content_digest(path)
    prehashed_first = prehashed.digest(path)[0]
    first = ingest_file(con, path, config=HubConfig(), prehashed=prehashed)
    assert not first.skipped and first.result.new > 0
    path.write_text(render(simulate(members=30, days=50, seed=5), "android_en_gb"))
    assert prehashed.digest(path) is None
    later = ingest_file(con, path, config=HubConfig(), prehashed=prehashed)
    assert not later.skipped and later.result.new > 0
    hashes = {sha for (sha,) in con.execute("SELECT sha256 FROM sources").fetchall()}
    assert hashes == {prehashed_first, content_digest(path)[0]}


def records(text: str) -> list[str]:
    """An iOS export's text cut into messages (a message's continuation lines stay with it)."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.lstrip("\u200e").startswith("[") or not out:
            out.append(line)
        else:
            out[-1] += line
    return out


def test_a_later_overlapping_export_adds_only_new_messages(tmp_path: Path, con) -> None:
    """The phone exports the whole chat again a month later: the old part is recognised."""
    sim = simulate(members=30, days=60, seed=7)
    full = records(render(sim, "ios_en_gb"))
    cut = len(full) * 2 // 3
    early, later = tmp_path / "early", tmp_path / "later"
    early.mkdir(), later.mkdir()
    (early / "WhatsApp Chat - Makers.txt").write_text("".join(full[:cut]), newline="")
    (later / "WhatsApp Chat - Makers.txt").write_text("".join(full[cut // 2:]), newline="")  # overlaps the first
    a = ingest_file(con, early / "WhatsApp Chat - Makers.txt", config=HubConfig())
    b = ingest_file(con, later / "WhatsApp Chat - Makers.txt", config=HubConfig())
    assert b.result.duplicate == cut - cut // 2
    assert b.result.new == len(full) - cut
    assert con.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone() == (len(full), len(full))
    assert con.execute("SELECT count(*) FROM sources").fetchone() == (2,)
    assert a.result.new + b.result.new == len(full)
    # Each message keeps the source that first brought it.
    per_source = con.execute("SELECT count(*) FROM messages GROUP BY source_id ORDER BY 1").fetchall()
    assert sorted(n for (n,) in per_source) == sorted([a.result.new, b.result.new])


def test_identical_messages_in_one_minute_both_count_across_exports(tmp_path: Path, con) -> None:
    first = "27/03/2022, 21:41 - Ana: ok\n27/03/2022, 21:41 - Ana: ok\n"
    later = first + "27/03/2022, 21:41 - Ana: ok\n27/03/2022, 21:45 - Bo: and me\n"
    for i, text in enumerate([first, later]):
        (tmp_path / str(i)).mkdir()
        path = tmp_path / str(i) / "WhatsApp Chat with Ok.txt"
        path.write_text(text)
        ingest_file(con, path, config=HubConfig())
    assert con.execute("SELECT count(*) FROM messages WHERE text = 'ok'").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (4,)


def test_a_message_deleted_between_two_exports_keeps_its_id(tmp_path: Path, con) -> None:
    before = "27/03/2022, 21:41 - Ana: I said something silly\n"
    after = "27/03/2022, 21:41 - Ana: This message was deleted\n27/03/2022, 21:50 - Bo: hm?\n"
    for i, text in enumerate([before, after]):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / "WhatsApp Chat with X.txt").write_text(text)
        ingest_file(con, tmp_path / str(i) / "WhatsApp Chat with X.txt", config=HubConfig())
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (2,)


def test_a_failed_load_leaves_the_warehouse_as_it_was(tmp_path: Path, con) -> None:
    path = tmp_path / "WhatsApp Chat with Makers.txt"
    path.write_text(render(simulate(members=20, days=20, seed=2), "android_en_gb"))
    ingest_file(con, path, config=HubConfig())
    before = counts(con)

    from connectors.whatsapp.parse import ExportReader, Options

    other = tmp_path / "WhatsApp Chat with Other.txt"
    other.write_text(render(simulate(members=20, days=20, seed=3, name="Other"), "android_en_gb"))
    reader = ExportReader(other, Options(community="default"), chunk_bytes=1024)

    def crash_midway():
        for i, batch in enumerate(reader.batches()):
            yield batch
            if i == 3:
                raise OSError("disk unplugged")

    source = SourceFile("whatsapp", "default", str(other), "0" * 64, 1, channel_id=reader.channel_id,
                        community_name="Other community")
    with pytest.raises(OSError):
        load(con, source, crash_midway())
    assert counts(con) == before
    assert con.execute("SELECT count(*) FROM communities WHERE name = 'Other community'").fetchone() == (0,)


def _messages(first: int, n: int) -> Batch:
    ids = pa.array([f"whatsapp:default:big/{i}" for i in range(first, first + n)])
    at = pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)] * n, pa.timestamp("us", "UTC"))
    return Batch.conform("messages", pa.table({
        "message_id": ids, "channel_id": pa.array(["whatsapp:default:big"] * n), "author_id": pa.nulls(n, pa.string()),
        "author_name": pa.nulls(n, pa.string()), "sent_at": at, "kind": pa.array(["message"] * n),
        "text": ids, "has_media": pa.array([False] * n), "position": pa.array(range(first, first + n), pa.int64())}))


def test_a_file_staged_in_many_batches_loads_each_row_once(con, tmp_path: Path, monkeypatch) -> None:
    # The stage writes DuckDB-sized row groups (122,880 rows) out of batches of any size.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    sizes = [0, 1, 122_879, 122_881, 50_000, 0, 3, 200_000]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    source = SourceFile("whatsapp", "default", "big.txt", "1" * 64, 1)
    result = load(con, source, (_messages(first, n) for first, n in zip(starts, sizes)))
    assert (result.records, result.new) == (sum(sizes), sum(sizes))
    assert con.execute("SELECT count(*), count(DISTINCT message_id), min(position), max(position) "
                       "FROM messages").fetchone() == (sum(sizes), sum(sizes), 0, sum(sizes) - 1)
    assert not list(tmp_path.glob("hub-stage-*"))


def test_a_read_that_fails_is_reported_as_itself_and_leaves_no_staged_file(con, tmp_path: Path,
                                                                           monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken():
        yield _messages(0, 150_000)  # a row group written, the rest of the rows pending
        raise ValueError("the export ends in the middle of a message")

    with pytest.raises(ValueError, match="ends in the middle"):
        load(con, SourceFile("whatsapp", "default", "big.txt", "2" * 64, 1), broken())
    assert con.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    assert not list(tmp_path.glob("hub-stage-*"))
