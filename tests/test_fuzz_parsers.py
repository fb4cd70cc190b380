"""Fuzzing every parser: whatever a file holds, `hub ingest` loads it, quarantines what it cannot read,
or refuses it with one clear line; never a traceback, a hang or memory without bound.

Inputs are the synthetic seeds in tests/fuzz/seeds/ and the real exports of ../shared/corpus (read in
place), damaged by Hypothesis: bytes flipped, inserted, deleted, stretches doubled, files cut short,
re-encoded (UTF-16, latin-1, cp1252 …), 100,000 nested `[`, lines of a megabyte, NUL bytes, JSON
values replaced by values of other types; and plain random bytes. Each goes through `ingest_file`
into a real warehouse file, and `fuzz.harness.ingest_checked` asserts the contract.

Each input has a deadline, and may raise the process's memory high-water mark by 1.5 GB at most;
the inputs built to exhaust memory run in a child process stopped past 1 GB (`fuzz/bounded_ingest.py`).
`make test` runs the short profile ("ci": 40 inputs per property, under a minute); `make fuzz` runs
this file with HYPOTHESIS_PROFILE=fuzz (2,000 per property) and prints, per parser, the inputs
tried, how they ended, the crashes and the slowest input, then runs Atheris (fuzz/atheris_fuzz.py).
Inputs that once found a bug are replayed from tests/fuzz/regressions/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fuzz import harness
from fuzz.harness import (ENCODINGS, NESTED, PLATFORMS, REGRESSIONS, Sample, Tally, corpus_samples, damaged,
                          first_message, json_value, mutated, seed_samples, write)
from hub.cli import app

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=40, deadline=dt.timedelta(seconds=20), database=None,
                          print_blob=True, suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("fuzz", max_examples=2000, deadline=dt.timedelta(seconds=30), print_blob=True,
                          suppress_health_check=_SLOW_IS_FINE)  # failures kept in .hypothesis/ (not in git)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE)
RUN_SECONDS = 3600 if PROFILE == "fuzz" else 300  # a whole property's run: past it, something hangs

TALLY = Tally()
SEEDS = seed_samples()

# -- what Hypothesis draws ---------------------------------------------------------------------------------

WHERE = st.floats(0, 1)
# Bits of syntax whose damage readers must survive: JSON's, the pretty layouts' object ends, Telegram's
# HTML markup, WhatsApp's header and continuation lines, BOMs, NULs, lone surrogates.
TOKENS = [b"\n", b"\r\n", b"\r", b"\xef\xbb\xbf", b"\x00", b"\x00" * 64, b'"', b"\\", b"\\u", b"\\ud83d",
          b"\\udc00", b"},", b"\n }", b"\n  },", b"]", b'"messages": [', b"null", b"[]", b"{}", b"1e999",
          b"18446744073709551616", b"<div>", b"</div>", b'<div class="message default" id="message9">',
          b'<div class="history">', b"27/03/2022, 21:41 - Ana: hi\n", b"[27.03.22, 21:41:05] Bo: ",
          b"\xff\xfe", b"\xe2\x80\x8e", b"\xf0\x9f"]
JSON_KEYS = ["id", "ts", "text", "type", "date", "date_unixtime", "from_id", "timestamp", "timestamp_ms",
             "sender_name", "content", "author", "messages", "user", "name", "reactions", "members", "data"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats() | st.text(max_size=12)
    | st.sampled_from(["", "0", "-1", "1e5", "user42", "channel7", "2024-13-45T99:99:99", "1700000000.000100",
                       "\ud800", "\u202e", "\x00", NESTED]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(JSON_KEYS), inner, max_size=3),
    max_leaves=6)
MUTATION = st.one_of(
    st.tuples(st.just("flip"), WHERE, st.integers(1, 255)),
    st.tuples(st.just("insert"), WHERE, st.binary(min_size=1, max_size=8) | st.sampled_from(TOKENS)),
    st.tuples(st.just("delete"), WHERE, st.integers(1, 512)),
    st.tuples(st.just("truncate"), WHERE),
    st.tuples(st.just("duplicate"), WHERE, st.integers(1, 4096)),
    st.tuples(st.just("reencode"), st.sampled_from(ENCODINGS)),
    st.tuples(st.just("huge_line"), WHERE, st.sampled_from([70_000, 1 << 20])),
    st.tuples(st.just("nest"), WHERE, st.sampled_from([300, 2_000, 100_000]), st.sampled_from([b"[", b"{"])),
    st.tuples(st.just("json_value"), st.integers(0, 10_000), JSON_VALUES),
)
MUTATIONS = st.lists(MUTATION, min_size=1, max_size=3)
# Damage to a zip itself, once written: none half of the time (what is inside matters more).
ZIP_DAMAGE = st.just([]) | st.lists(st.one_of(
    st.tuples(st.just("flip"), WHERE, st.integers(1, 255)),
    st.tuples(st.just("truncate"), WHERE),
    st.tuples(st.just("delete"), WHERE, st.integers(1, 64)),
    st.tuples(st.just("insert"), WHERE, st.binary(min_size=1, max_size=8))), min_size=1, max_size=2)
# A file goes to the platform it looks like or is named (--platform) as, and now and then to another
# platform's reader (which mostly refuses it at once: so, less often).
AS = st.sampled_from(["auto", "auto", "sample's", "sample's", "sample's", "sample's", *PLATFORMS])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """One warehouse file for the module: every input lands beside what the ones before left."""
    from warehouse.db import connect

    with connect(tmp_path_factory.mktemp("fuzz") / "w.duckdb") as con:
        yield con


@pytest.fixture(scope="module", autouse=True)
def figures(request):
    """The long run prints its figures: inputs per parser, crashes, the slowest input."""
    yield
    if PROFILE == "fuzz":
        plugins = request.config.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():  # (teardown output is captured)
            reporter.write_sep("=", "fuzzing figures")
            for line in TALLY.report():
                reporter.write_line(line)


def _try(con, sample: Sample, content, platform: str, *, as_zip: bool | None = None, zip_damage: list = (),
         what: str = "") -> harness.Outcome:
    """Write `content` where a user would have it (a zip written then damaged by `zip_damage`: cut
    short by a download, flipped on a disk), ingest it with the contract checked, count it."""
    chosen = sample.platform if platform == "sample's" else platform
    parser = sample.parser if chosen in ("auto", sample.platform) else f"{chosen} (--platform)"
    with tempfile.TemporaryDirectory() as folder:
        path = write(sample, content, Path(folder), as_zip=as_zip)
        if zip_damage and path.suffix == ".zip":
            path.write_bytes(mutated(path.read_bytes(), zip_damage))
            parser = f"{parser}, zip damaged"
        return TALLY.ingest(con, path, parser, what or f"{sample} as {chosen}", chosen)


# -- Hypothesis: damaged seeds, damaged real exports, random bytes ----------------------------------------

@pytest.mark.timeout(RUN_SECONDS)
@FUZZ
@given(sample=st.sampled_from(SEEDS), mutations=MUTATIONS, member=st.integers(0, 50), as_zip=st.booleans(),
       zip_damage=ZIP_DAMAGE, platform=AS)
def test_a_damaged_seed_loads_quarantines_or_is_refused_clearly(warehouse, sample, mutations, member, as_zip,
                                                                  zip_damage, platform) -> None:
    _try(warehouse, sample, damaged(sample, mutations, member), platform, as_zip=as_zip, zip_damage=zip_damage,
         what=f"{sample} as {platform}, {_short(mutations)} on file {member}, zip: {_short(zip_damage)}")


@pytest.mark.timeout(RUN_SECONDS)
@FUZZ
@given(data=st.data(), mutations=MUTATIONS, member=st.integers(0, 50), zip_damage=ZIP_DAMAGE, platform=AS)
def test_a_damaged_real_export_loads_quarantines_or_is_refused_clearly(warehouse, real_exports, data, mutations,
                                                                        member, zip_damage, platform) -> None:
    sample = data.draw(st.sampled_from(real_exports), label="export")
    _try(warehouse, sample, damaged(sample, mutations, member), platform, zip_damage=zip_damage,
         what=f"{sample} as {platform}, {_short(mutations)} on file {member}, zip: {_short(zip_damage)}")


@pytest.mark.timeout(RUN_SECONDS)
@FUZZ
@given(noise=st.binary(min_size=1, max_size=4096), like=st.sampled_from(SEEDS), platform=AS)
def test_random_bytes_are_refused_with_the_file_named(warehouse, noise, like, platform) -> None:
    """Noise under the name of a real export (its .txt, .json, .html or .zip name), read as that
    platform's or as any: nothing loads, one line says what is wrong with the file."""
    sample = Sample(like.platform, like.parser, like.name if not like.is_tree else f"{like.name}.zip", noise)
    outcome = _try(warehouse, sample, noise, platform, what=f"{len(noise)} random bytes as {platform}")
    assert not outcome.loaded or outcome.records == 0, "random bytes loaded as messages"


@pytest.fixture(scope="module")
def real_exports(corpus: Path) -> list[Sample]:
    return corpus_samples(corpus)


def _short(mutations: list) -> str:
    """Mutations for a one-line description (JSON values can be long)."""
    return ", ".join(f"{m[0]}{tuple(str(a)[:20] for a in m[1:])}" for m in mutations)


# -- files cut short -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_truncated_real_export_keeps_what_is_whole(warehouse, corpus: Path, platform: str) -> None:
    """Each real export cut at a third, half and two thirds (its chat text, or its biggest day file):
    the messages before the cut load and what the cut runs through is quarantined, or (a JSON file
    not laid out as the platform writes it, which cannot be read message by message) the file is
    refused with a clear message. A Facebook file given alone is one JSON document: cut, it is
    refused, saying so (inside a dump it is quarantined, below)."""
    kept = 0
    for sample in corpus_samples(corpus, platform):
        files = sample.content if sample.is_tree else {"": sample.content}
        target = max(files, key=lambda name: len(files[name]))
        for cut in (1 / 3, 1 / 2, 2 / 3):
            cut_files = {**files, target: files[target][:int(len(files[target]) * cut)]}
            outcome = _try(warehouse, sample, cut_files if sample.is_tree else cut_files[""], platform,
                           what=f"{sample} cut at {cut:.0%}")
            assert not outcome.loaded or outcome.records + outcome.quarantined > 0, f"{sample}: {outcome}"
            if platform == "facebook":
                assert not outcome.loaded and "cut short" in outcome.error, outcome
            kept += outcome.records
    assert platform == "facebook" or kept > 0, f"no cut {platform} export kept a message"


def test_a_truncated_file_in_a_facebook_dump_is_quarantined_and_the_rest_loads(warehouse) -> None:
    sample = next(s for s in SEEDS if s.parser == "facebook dump")
    thread = "messages/inbox/makers_9x1/message_2.json"
    cut = {**sample.content, thread: sample.content[thread][:len(sample.content[thread]) // 2]}
    outcome = _try(warehouse, sample, cut, "facebook")
    assert outcome.loaded and outcome.records > 0 and outcome.quarantined == 1
    assert warehouse.execute("SELECT location, reason FROM quarantine WHERE source_id = ?",
                             [outcome.source_id]).fetchone()[0] == thread


def test_a_truncated_telegram_export_quarantines_the_message_it_ends_in(warehouse) -> None:
    sample = next(s for s in SEEDS if s.name == "result.json")
    cut = sample.content.rfind(b'"text"', 0, len(sample.content) // 2)  # inside a message, halfway
    outcome = _try(warehouse, sample, sample.content[:cut], "telegram")
    assert outcome.loaded and outcome.records > 0 and outcome.quarantined == 1
    reason, = warehouse.execute("SELECT reason FROM quarantine WHERE source_id = ?", [outcome.source_id]).fetchone()
    assert "ends inside a message" in reason


# -- encodings, NUL bytes, deep nesting, huge lines ------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1", "cp1252"])
def test_an_export_saved_in_another_encoding_loads_or_is_refused_clearly(warehouse, encoding: str) -> None:
    """Re-saved by an editor. A file in UTF-16 or UTF-32 is refused as binary (a NUL byte every other
    byte); in a folder or zip, that file is quarantined or the export refused. In latin-1 or cp1252
    what is still ASCII loads, the lines that no longer decode are quarantined, and an export whose
    every line changed (an iPhone's narrow no-break space before AM/PM becomes "?") is refused."""
    loaded = 0
    for sample in SEEDS:
        outcome = _try(warehouse, sample, damaged(sample, [("reencode", encoding)]), "auto",
                       what=f"{sample} in {encoding}")
        if encoding.startswith("utf-") and not sample.is_tree:
            assert not outcome.loaded and "binary" in outcome.error, outcome
        loaded += outcome.loaded
    assert loaded >= (2 if encoding.startswith("utf-") else len(SEEDS) - 2)


def test_nul_bytes_in_a_chat_are_quarantined_with_their_line(warehouse) -> None:
    sample = next(s for s in SEEDS if s.parser == "whatsapp txt")
    lines = sample.content.split(b"\n")
    lines[3] = lines[3][:10] + b"\x00" + lines[3][10:]
    outcome = _try(warehouse, sample, b"\n".join(lines), "whatsapp")
    assert outcome.loaded and outcome.quarantined == 1
    assert warehouse.execute("SELECT location, reason FROM quarantine WHERE source_id = ?",
                             [outcome.source_id]).fetchone() == ("line 4", "control characters in the line")


@pytest.mark.parametrize("name", ["result.json", "telethon.json", "ChatExport_2024-01-08", "message_1.json",
                                  "feed_1.json", "your_posts_in_groups.json", "facebook-anadyi",
                                  "Makers Slack export", "Makers - Text Channels"])
def test_deeply_nested_json_is_refused_or_quarantined_in_bounded_memory(tmp_path, name: str) -> None:
    """100,000 nested `[` as a message, and as a message's text: a parser that recurses, or one that
    keeps a prefix per level (ijson), must neither blow the stack nor memory. Each runs in a child
    process stopped past 1 GB, so that a regression fails the test instead of taking the machine down."""
    sample = next(s for s in SEEDS if s.name.startswith(name))
    main = max(sample.content, key=lambda n: len(sample.content[n])) if sample.is_tree else None
    text = sample.content[main] if main is not None else sample.content
    for what, nested in (("message", json_value(text, first_message(text), NESTED)),
                         ("text", _STRING_FIELD.sub(rb"\1" + b"[" * 100_000 + b"]" * 100_000, text, count=1))):
        assert nested != text
        path = write(sample, {**sample.content, main: nested} if main is not None else nested, tmp_path / what)
        outcome = _bounded_ingest(path, sample.platform, tmp_path / f"{what}.duckdb", limit_mb=1024)
        assert (outcome["loaded"] and outcome["quarantined"] > 0) or "—" in (outcome["error"] or ""), outcome


# The first text field of a message, whatever the platform calls it.
_STRING_FIELD = re.compile(rb'("(?:text|content|message|post|comment)"\s*:\s*)"(?:[^"\\]|\\.)*"')


def test_a_megabyte_line_and_a_40_mb_line_keep_memory_bounded(tmp_path) -> None:
    """A WhatsApp line is at most 65,536 characters; a 40 MB one (a dumped blob) is quarantined
    without being kept in memory, and the messages around it load."""
    sample = next(s for s in SEEDS if s.parser == "whatsapp txt")
    first, rest = sample.content.split(b"\n", 1)
    for length in (1 << 20, 40 << 20):
        path = write(sample, first + b"a" * length + b"\n" + rest, tmp_path / str(length))
        outcome = _bounded_ingest(path, "whatsapp", tmp_path / f"{length}.duckdb", limit_mb=1024)
        assert outcome["loaded"] and outcome["records"] >= 18, outcome
        assert outcome["quarantined"] == (length > 16 << 20), outcome


def _bounded_ingest(path: Path, platform: str, db: Path, limit_mb: int) -> dict:
    """`ingest_checked` in a child process stopped if its memory passes `limit_mb` or it runs 120 s."""
    child = subprocess.run([sys.executable, str(Path(harness.__file__).with_name("bounded_ingest.py")),
                            str(path), platform, str(db), str(limit_mb)],
                           capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert child.returncode == 0, f"{path.name}: exit {child.returncode}\n{child.stdout}\n{child.stderr[-3000:]}"
    return json.loads(child.stdout.strip().splitlines()[-1])


# -- inputs that found bugs, and the command line ------------------------------------------------------------

REPLAYED = sorted(p for p in REGRESSIONS.glob("*/*") if not p.name.endswith(".expect.json"))


@pytest.mark.parametrize("path", REPLAYED, ids=[f"{p.parent.name}/{p.name}" for p in REPLAYED])
def test_an_input_that_once_crashed_now_keeps_the_contract(warehouse, path: Path) -> None:
    """Each file of tests/fuzz/regressions/<platform>/ (see its README) crashed a reader once; its
    `.expect.json` says how it must end now: loaded records, quarantined ones, or the error's words."""
    expect = json.loads(path.with_name(path.name + ".expect.json").read_text())
    outcome = TALLY.ingest(warehouse, path, f"{path.parent.name} regression", path.name, expect.get("as", "auto"))
    if "error" in expect:
        assert not outcome.loaded and expect["error"] in outcome.error, outcome
    else:
        assert outcome.loaded, outcome
        assert (outcome.records, outcome.quarantined) == (expect["records"], expect["quarantined"]), outcome


def test_a_chat_whose_minutes_come_back_chunks_later_gives_each_message_its_own_id(tmp_path) -> None:
    """Found by fuzzing (a stretch of a chat doubled): the reader ranked a minute's messages by author
    only within the last hour of the previous chunk, so an export pasted after itself, more than a
    chunk (8 MB) later, gave its second copy the first one's ids. Chunks of 512 bytes show it small."""
    from connectors.whatsapp.parse import ExportReader

    chat = next(s for s in SEEDS if s.parser == "whatsapp txt")
    path = write(chat, chat.content + chat.content, tmp_path)
    reader = ExportReader(path, chunk_bytes=512)
    ids = [i for b in reader.batches() if b.stream == "messages" for i in b.table["message_id"].to_pylist()]
    assert len(ids) == 2 * 19 and len(set(ids)) == len(ids)


def test_a_telegram_export_pasted_after_itself_loads_each_message_once(warehouse, monkeypatch) -> None:
    """Found by Atheris: a message id given twice made two rows of one message. A streamed export
    (a folder) is read in blocks (8 MB; 2 KB here): the second copy, in a later block or the same
    one, is quarantined with its number, and what hangs off it (its reactions) is not loaded twice."""
    monkeypatch.setattr("connectors.telegram.export.BLOCK_BYTES", 2048)
    sample = next(s for s in SEEDS if s.name == "result.json")
    doubled = json.loads(sample.content)
    doubled["messages"] += doubled["messages"]
    folder = Sample("telegram", "telegram folder/zip", "ChatExport_doubled",
                    {"result.json": json.dumps(doubled, indent=1, ensure_ascii=False).encode()})
    outcome = _try(warehouse, folder, folder.content, "auto", as_zip=False)
    assert (outcome.records, outcome.quarantined) == (19, 19), outcome
    reasons = warehouse.execute("SELECT DISTINCT regexp_replace(reason, '[0-9]+$', 'N') FROM quarantine "
                                "WHERE source_id = ?", [outcome.source_id]).fetchall()
    assert reasons == [("a second message with the id N",)]
    reactions, distinct = warehouse.execute("SELECT count(*), count(DISTINCT (message_id, reactor_id, emoji)) "
                                            "FROM reactions WHERE source_id = ?", [outcome.source_id]).fetchone()
    assert reactions == distinct > 0


def test_hub_ingest_refuses_random_bytes_in_one_line_and_loads_the_rest(tmp_path) -> None:
    noise = tmp_path / "result.json"
    noise.write_bytes(bytes(range(256)) * 8)
    chat = next(s for s in SEEDS if s.parser == "whatsapp txt")
    good = write(chat, chat.content, tmp_path)
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(noise), str(good), "--db", str(db), "--json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    files = json.loads(result.stdout.strip().splitlines()[-1])["files"]
    assert [(f["path"], bool(f["error"]), f.get("new")) for f in files] == [(str(noise), True, None),
                                                                             (str(good), False, 19)]
    assert files[0]["error"].startswith(f"{noise}: this is a binary file")
