"""Hostile archives and folders, through `hub ingest`: nothing is ever extracted or written outside
the warehouse; entries that are not plain files are refused and reported while the rest loads;
zip bombs (too big, too packed, or lying about their size) fail with a message naming the file and
saying what to do, and leave nothing in the warehouse."""

from __future__ import annotations

import json
import os
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.simulate import simulate
from hub.simulate import slack as sim_slack
from hub.simulate import telegram as sim_telegram
from hub.simulate.whatsapp import render
from warehouse.db import connect

runner = CliRunner()
SIM = simulate(members=8, days=15, seed=7)
OUTSIDE_SECRET = "TOP-SECRET-from-outside-the-export"

TRAVERSAL = "a zip entry whose path leads out of the archive (path traversal): not read"
SYMLINK = "a symbolic link: not followed"
SPECIAL = "a device, named pipe or socket, not a file: not read"


# -- building exports ---------------------------------------------------------------------------

def _good_entries(platform: str, tmp_path: Path) -> dict[str, bytes]:
    """The files of a small valid export, by their name in its zip."""
    if platform == "whatsapp":
        return {"_chat.txt": render(SIM, "ios_en_gb").encode()}
    if platform == "telegram":
        path = sim_telegram.write_export(sim_telegram.chat(SIM), tmp_path / "build" / "result.json")
        return {"ChatExport/result.json": path.read_bytes()}
    folder = sim_slack.write_export(sim_slack.workspace(SIM), tmp_path / "build" / "slack")
    return {f"Makers Slack export/{p.relative_to(folder).as_posix()}": p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


MAIN_FILE = {"whatsapp": "_chat.txt", "telegram": "ChatExport/result.json",
             "slack": "Makers Slack export/users.json"}
ZIP_NAMES = {"whatsapp": "WhatsApp Chat - Makers.zip", "telegram": "ChatExport.zip", "slack": "Makers Slack export.zip"}


def _zip(path: Path, entries: dict[str, bytes], hostile: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        for info, data in hostile:
            z.writestr(info, data)
    if any(info.filename == "media/locked.txt" for info, _ in hostile):
        _patch_entry(path, "media/locked.txt", "flags", 0x1)
    return path


def _entry(name: str, mode: int | None = None, **fields: object) -> zipfile.ZipInfo:
    """A zip entry as a Unix zip tool writes it, `mode` being its st_mode (file type and permissions)."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    if mode is not None:
        info.external_attr = mode << 16
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def _hostile_entries(main_file: str) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Entries no export holds; `main_file` is the name of the export's own main file."""
    evil = b"27/03/2022, 21:41 - Mallory: pwned\n"
    return [
        (_entry("../evil.txt"), evil),
        (_entry("../../evil.json"), b"[]"),
        (_entry("/tmp/evil-absolute.txt"), evil),
        (_entry("C:\\evil-windows.txt"), evil),
        (_entry("media\\..\\..\\evil-backslash.txt"), evil),
        (_entry("media/passwd-link.txt", stat.S_IFLNK | 0o777), b"/etc/passwd"),
        # A link named as the export's main file, after it: zipfile's `getinfo` would pick it.
        (_entry(main_file, stat.S_IFLNK | 0o777), b"/etc/passwd"),
        (_entry("media/tty", stat.S_IFCHR | 0o600), b""),
        (_entry("media/pipe", stat.S_IFIFO | 0o600), b""),
        (_entry("media/locked.txt", stat.S_IFREG | 0o600), evil),  # flagged encrypted by `_zip`
        (_entry("media/packed.bz2.txt", stat.S_IFREG | 0o644, compress_type=zipfile.ZIP_BZIP2), evil * 100),
    ]


def _expected_refusals(main_file: str) -> dict[str, str]:
    return {**REFUSALS, main_file: SYMLINK}


REFUSALS = {
    "../evil.txt": TRAVERSAL,
    "../../evil.json": TRAVERSAL,
    "/tmp/evil-absolute.txt": TRAVERSAL,
    "C:\\evil-windows.txt": TRAVERSAL,
    "media\\..\\..\\evil-backslash.txt": TRAVERSAL,
    "media/passwd-link.txt": SYMLINK,
    "media/tty": SPECIAL,
    "media/pipe": SPECIAL,
    "media/locked.txt": "a password-protected entry: not read",
    "media/packed.bz2.txt": "compressed with bzip2, not deflate: not read (unzip the export and pass the folder)",
}


# -- running hub ingest -------------------------------------------------------------------------

def _ingest(*args: object):
    return runner.invoke(app, ["ingest", *map(str, args)])


def _rows(db: Path, sql: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """The command runs in a folder of its own, so anything a relative path would write shows up."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    for variable in ("HUB_MAX_UNZIPPED_BYTES", "HUB_MAX_ZIP_RATIO"):
        monkeypatch.delenv(variable, raising=False)
    return cwd


def _assert_refused_clearly(result, path: Path, *words: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.strip()]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    assert str(path) in errors[0] and all(w in errors[0] for w in words), errors[0]


def _assert_nothing_loaded(db: Path) -> None:
    assert _rows(db, "SELECT count(*) FROM sources") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM messages") == [(0,)]


# -- entries that are not plain files ----------------------------------------------------------------

@pytest.mark.parametrize("platform", ["whatsapp", "telegram", "slack"])
def test_unsafe_entries_are_refused_and_reported_while_the_export_loads(tmp_path: Path, workdir: Path,
                                                                        platform: str) -> None:
    entries = _good_entries(platform, tmp_path)
    clean = _zip(tmp_path / "clean" / ZIP_NAMES[platform], entries)
    with pytest.warns(UserWarning, match="Duplicate name"):
        hostile = _zip(tmp_path / "hostile" / ZIP_NAMES[platform], entries, _hostile_entries(MAIN_FILE[platform]))
    refusals = _expected_refusals(MAIN_FILE[platform])
    assert _ingest(clean, "--db", tmp_path / "clean.duckdb").exit_code == 0
    before = _files_under(tmp_path)

    db = tmp_path / "hostile.duckdb"
    result = _ingest(hostile, "--db", db)

    assert result.exit_code == 0, result.output
    assert f"{len(refusals)} record(s) quarantined" in result.output
    everything = "SELECT message_id, author_name, text FROM messages ORDER BY ALL"
    assert _rows(db, everything) == _rows(tmp_path / "clean.duckdb", everything) != []
    assert dict(_rows(db, "SELECT location, reason FROM quarantine")) == refusals
    assert _rows(db, "SELECT count(*) FROM quarantine WHERE raw IS NOT NULL") == [(0,)]  # never read
    assert _rows(db, "SELECT count(*) FROM messages WHERE text LIKE '%pwned%' OR text LIKE '%root:%'") == [(0,)]
    written = {p for p in _files_under(tmp_path) - before if not p.name.startswith("hostile.duckdb")}
    assert written == set() and not list(workdir.iterdir())
    assert not any((tmp_path.parent / name).exists() for name in ("evil.txt", "evil.json"))


def test_a_zip_holding_only_unsafe_entries_says_what_was_refused(tmp_path: Path, workdir: Path) -> None:
    path = _zip(tmp_path / "WhatsApp Chat - Evil.zip", {}, [(_entry("../_chat.txt"), b"27/03/2022, 21:41 - M: x\n")])
    db = tmp_path / "hub.duckdb"
    _assert_refused_clearly(_ingest(path, "--db", db), path, "'../_chat.txt' not read", "path traversal")
    _assert_nothing_loaded(db)


# -- zip bombs ----------------------------------------------------------------------------------------

def _zeros(z: zipfile.ZipFile, name: str, size: int) -> None:
    """`size` bytes of zeros, deflated as they are written (a few hundred KB on disk per 256 MiB)."""
    block = bytes(1 << 20)
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with z.open(info, "w", force_zip64=True) as f:
        for start in range(0, size, len(block)):
            f.write(block[: min(len(block), size - start)])


def _whatsapp_zip_with(tmp_path: Path, extra) -> Path:
    path = tmp_path / "WhatsApp Chat - Makers.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("_chat.txt", render(SIM, "ios_en_gb"))
        extra(z)
    return path


@pytest.mark.parametrize("platform", ["auto", "whatsapp"])
def test_an_entry_packed_a_thousand_to_one_is_a_zip_bomb(tmp_path: Path, workdir: Path, platform: str) -> None:
    path = _whatsapp_zip_with(tmp_path, lambda z: _zeros(z, "media/VID-0001.mp4", 64 << 20))
    db = tmp_path / "hub.duckdb"
    result = _ingest(path, "--db", db, "--platform", platform)
    _assert_refused_clearly(result, path, "'media/VID-0001.mp4' would unpack to 64.0 MiB",
                            "more than the 200:1 allowed", "zip bomb", "unzip it yourself and pass the folder",
                            "HUB_MAX_ZIP_RATIO")
    _assert_nothing_loaded(db)


def test_the_ratio_limit_is_raised_from_the_environment(tmp_path: Path, workdir: Path, monkeypatch) -> None:
    path = _whatsapp_zip_with(tmp_path, lambda z: _zeros(z, "media/VID-0001.mp4", 64 << 20))
    monkeypatch.setenv("HUB_MAX_ZIP_RATIO", "5000")
    db = tmp_path / "hub.duckdb"
    result = _ingest(path, "--db", db)
    assert result.exit_code == 0, result.output
    assert _rows(db, "SELECT count(*) > 0 FROM messages") == [(True,)]


def test_many_small_entries_packed_a_thousand_to_one_are_a_zip_bomb(tmp_path: Path, workdir: Path) -> None:
    """Each entry is too small to be held to the ratio; together they are."""
    def small_bombs(z: zipfile.ZipFile) -> None:
        for i in range(40):
            _zeros(z, f"media/IMG-{i:04}.jpg", 1_000_000)

    path = _whatsapp_zip_with(tmp_path, small_bombs)
    db = tmp_path / "hub.duckdb"
    _assert_refused_clearly(_ingest(path, "--db", db), path, "the zip would unpack to 38.", "zip bomb",
                            "HUB_MAX_ZIP_RATIO")
    _assert_nothing_loaded(db)


@pytest.mark.parametrize("platform", ["auto", "whatsapp", "slack"])
def test_a_zip_bigger_than_the_size_limit_is_refused(tmp_path: Path, workdir: Path, monkeypatch, platform: str) -> None:
    """Real exports can be GBs, so the default is 20 GiB; here it is lowered to 1 MiB for the test."""
    path = _whatsapp_zip_with(tmp_path, lambda z: z.writestr("media/VID-0001.mp4", os.urandom(2 << 20)))
    monkeypatch.setenv("HUB_MAX_UNZIPPED_BYTES", "1M")
    db = tmp_path / "hub.duckdb"
    result = _ingest(path, "--db", db, "--platform", platform)
    _assert_refused_clearly(result, path, "would unpack to 2.", "more than the 1.0 MiB allowed",
                            "unzip it yourself and pass the folder, or raise HUB_MAX_UNZIPPED_BYTES")
    _assert_nothing_loaded(db)


def test_a_limit_that_is_not_a_number_is_named(tmp_path: Path, workdir: Path, monkeypatch) -> None:
    path = _whatsapp_zip_with(tmp_path, lambda z: None)
    monkeypatch.setenv("HUB_MAX_UNZIPPED_BYTES", "lots")
    result = _ingest(path, "--db", tmp_path / "hub.duckdb")
    assert result.exit_code == 1 and "$HUB_MAX_UNZIPPED_BYTES: 'lots' is not a limit" in result.output, result.output


def _patch_entry(path: Path, name: str, field: str, value: int) -> None:
    """Rewrite a field of an entry in its local header and central directory record, as a hostile
    tool could write it (zipfile itself only writes consistent archives)."""
    fmt, local_at, central_at = {"flags": ("<H", 6, 8), "size": ("<I", 22, 24)}[field]
    with zipfile.ZipFile(path) as z:
        local = z.getinfo(name).header_offset
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, local + local_at, value)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46: central + 46 + length] == name.encode():
            struct.pack_into(fmt, data, central + central_at, value)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


def test_an_entry_lying_about_its_size_is_never_inflated(tmp_path: Path, workdir: Path) -> None:
    """A day file declares 60 bytes and holds 256 MiB: by its header it is neither big nor packed
    much, so only reading can tell. The hub reads no more than declared, finds the entry damaged,
    and says so; memory stays far below what inflating it would take."""
    folder = sim_slack.write_export(sim_slack.workspace(SIM), tmp_path / "slack")
    path = tmp_path / "Makers Slack export.zip"
    day = b'[{"type": "message", "user": "U1", "text": "hi", "ts": "1704067200.000100"}]'
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder).as_posix())
        with z.open("general/2030-01-01.json", "w") as f:
            f.write(day)
            block = b" " * (1 << 20)
            for _ in range(256):
                f.write(block)
    _patch_entry(path, "general/2030-01-01.json", "size", len(day))
    db = tmp_path / "hub.duckdb"
    with connect(db):
        pass  # the warehouse exists before memory is measured
    tracemalloc.start()
    try:
        result = _ingest(path, "--db", db)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _assert_refused_clearly(result, path, "'general/2030-01-01.json' is damaged", "export it again")
    assert peak < 64 << 20, f"{peak / (1 << 20):.0f} MiB"
    _assert_nothing_loaded(db)


# -- folders ------------------------------------------------------------------------------------------

def _folder_export_with_links(tmp_path: Path) -> tuple[Path, str]:
    """A Slack export folder with a day file linked to a file outside it, a channel folder linked to
    a folder outside it (both holding OUTSIDE_SECRET) and a named pipe; and the linked day file's name."""
    ws = sim_slack.workspace(SIM)
    folder = sim_slack.write_export(ws, tmp_path / "export")
    outside = tmp_path / "outside"
    (outside / "channel").mkdir(parents=True)
    secret = [{"type": "message", "user": ws["users"][0]["id"], "text": OUTSIDE_SECRET, "ts": "1704067200.000100"}]
    for target in (outside / "secret.json", outside / "channel" / "2024-01-01.json"):
        target.write_text(json.dumps(secret))
    general = next(p for p in folder.iterdir() if p.is_dir())
    (general / "2030-01-01.json").symlink_to(outside / "secret.json")
    (folder / "linked-channel").symlink_to(outside / "channel", target_is_directory=True)
    os.mkfifo(folder / "pipe.json")
    return folder, f"{general.name}/2030-01-01.json"


@pytest.mark.timeout(60)  # reading the named pipe would wait for ever
def test_a_folder_export_does_not_follow_links_out_of_it_nor_read_pipes(tmp_path: Path, workdir: Path) -> None:
    folder, linked_day = _folder_export_with_links(tmp_path)
    db = tmp_path / "hub.duckdb"

    result = _ingest(folder, "--db", db)

    assert result.exit_code == 0, result.output
    assert _rows(db, f"SELECT count(*) FROM messages WHERE text LIKE '%{OUTSIDE_SECRET}%'") == [(0,)]
    assert _rows(db, "SELECT count(*) > 0 FROM messages") == [(True,)]
    assert dict(_rows(db, "SELECT location, reason FROM quarantine")) == {
        linked_day: SYMLINK, "linked-channel": SYMLINK, "pipe.json": SPECIAL}
    # Re-reading the folder finds it unchanged: the link's target is not part of what was read.
    (tmp_path / "outside" / "secret.json").write_text("[]")
    again = runner.invoke(app, ["ingest", str(folder), "--db", str(db), "--json"])
    assert '"skipped": true' in again.output, again.output


@pytest.mark.timeout(60)
def test_the_pipeline_reads_a_folder_export_without_following_its_links(tmp_path: Path) -> None:
    """What the Dagster assets do: land the folder in the raw store, then read the stored copy."""
    from hub.config import HubConfig
    from hub.ingest import ingest_file
    from hub.landing import land

    folder, _ = _folder_export_with_links(tmp_path)
    landed = land(folder, tmp_path / "raw")
    with connect(tmp_path / "hub.duckdb") as con:
        report = ingest_file(con, landed.stored_as, origin=folder, config=HubConfig(), platform="slack", force=True)
        assert report.error is None
        assert con.execute(f"SELECT count(*) FROM messages WHERE text LIKE '%{OUTSIDE_SECRET}%'").fetchone() == (0,)


# -- names: not in UTF-8, or in UTF-8 without the zip's flag saying so ---------------------------------

def _slack_export_with_channels(folder: Path, names: dict[str, str]) -> Path:
    """A Slack export whose channels (id -> name) each hold one message, by one user."""
    folder.mkdir(parents=True)
    (folder / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana", "real_name": "Ana"}]))
    (folder / "channels.json").write_text(json.dumps([{"id": i, "name": n} for i, n in names.items()]))
    for i, name in enumerate(names.values()):
        day = folder / name / "2024-03-01.json"
        day.parent.mkdir()
        day.write_text(json.dumps([{"type": "message", "user": "U1", "text": f"hello {i}", "ts": f"170928000{i}.000100"}]))
    return folder


def test_names_from_unix_zip_tools_are_read_as_utf8(tmp_path: Path) -> None:
    """Info-ZIP and macOS write UTF-8 names without the flag that says so: the channels are found
    by their names, not taken for others named in IBM 437 ("caf├⌐")."""
    folder = _slack_export_with_channels(tmp_path / "export", {"C1": "café", "C2": "日本"})
    archive = tmp_path / "export.zip"
    names = [p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*.json"))]
    with zipfile.ZipFile(archive, "w") as z:
        for name in names:
            z.writestr(name, (folder / name).read_bytes())
    for name in names:
        if not name.isascii():
            _patch_entry(archive, name, "flags", 0)  # the same UTF-8 bytes, without the flag
    assert not any(i.flag_bits & 0x800 for i in zipfile.ZipFile(archive).infolist())
    db = tmp_path / "hub.duckdb"
    assert _ingest(archive, "--db", db).exit_code == 0
    assert _rows(db, "SELECT c.name, count(*) FROM messages m JOIN channels c USING (channel_id) GROUP BY 1 ORDER BY 1") \
        == [("café", 1), ("日本", 1)]


@pytest.mark.skipif(os.name != "posix" or os.uname().sysname == "Darwin",
                    reason="only Linux file systems take a file name that is not UTF-8: macOS and Windows "
                           "refuse to create one, so such a file cannot reach the hub there")
def test_file_names_not_in_utf8_load_and_are_shown_escaped(tmp_path: Path) -> None:
    """A name in Latin-1 (an old disk, a Windows copy) stops nothing: the export loads, and the
    name is kept with its odd bytes shown as \\xNN."""
    folder = _slack_export_with_channels(tmp_path / "slack", {"C1": "general"})
    os.rename(folder / "general", os.fsdecode(os.fsencode(folder) + b"/caf\xe9"))  # a folder no channels.json names
    chat = os.fsdecode(os.fsencode(tmp_path) + b"/WhatsApp Chat with Jos\xe9.txt")
    Path(chat).write_text("01/03/2024, 10:00 - Ana: hola\n01/03/2024, 10:01 - Bob: hi\n")
    db = tmp_path / "hub.duckdb"
    result = _ingest(folder, chat, "--db", db)
    assert result.exit_code == 0, result.output
    assert _rows(db, "SELECT name FROM channels ORDER BY 1") == [("Jos\\xe9",), ("caf\\xe9",), ("general",)]
    assert _rows(db, "SELECT count(*) FROM messages") == [(3,)]
    assert (f"{tmp_path}/WhatsApp Chat with Jos\\xe9.txt",) in _rows(db, "SELECT path FROM sources")
