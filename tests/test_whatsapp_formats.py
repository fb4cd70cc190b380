"""The header variants WhatsApp writes in locales we have no corpus sample of.

Each case is one or two lines as a phone in that locale writes them; the test reads them through
the connector and checks the local wall-clock time, the author and the text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest

from connectors.whatsapp.header import infer_order, seconds_of_day, split_date
from connectors.whatsapp.parse import ExportReader, Options

T = dt.datetime(2022, 3, 27, 21, 41, 35)
T0 = T.replace(second=0)
PM_AT_3 = dt.datetime(2019, 6, 20, 15, 4)


def read(tmp_path: Path, text: str, *, name: str = "WhatsApp Chat with Test.txt", tz: str = "UTC",
         encoding: str = "utf-8") -> tuple[pl.DataFrame, list]:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    reader = ExportReader(path, Options(community="c", tz=tz))
    batches = list(reader.batches())
    messages = [b.table for b in batches if b.stream == "messages"]
    quarantined = [row for b in batches if b.stream == "quarantine" for row in b.table.to_pylist()]
    frame = pl.from_arrow(pa.concat_tables(messages)) if messages else pl.DataFrame()
    return frame, quarantined


def local(frame: pl.DataFrame, tz: str = "UTC") -> list[dt.datetime]:
    return [t.replace(tzinfo=None) for t in frame["sent_at"].dt.convert_time_zone(tz).to_list()]


CASES = [
    # (description, line, expected local time)
    ("iOS en-US 12h with seconds", "[3/27/22, 9:41:35 PM] Ana: hi", T),
    ("iOS en-GB 24h", "[27/03/2022, 21:41:35] Ana: hi", T),
    ("Android en-GB", "27/03/2022, 21:41 - Ana: hi", T0),
    ("Android en-US 12h NNBSP", "3/27/22, 9:41\u202fPM - Ana: hi", T0),
    ("Android de dd.mm.yy", "27.03.22, 21:41 - Ana: hi", T0),
    ("Android cs no comma", "27.03.22 21:41 - Ana: hi", T0),
    ("Android nl dd-mm-yyyy", "27-03-2022 21:41 - Ana: hi", T0),
    ("ISO yyyy-mm-dd", "2022-03-27, 21:41 - Ana: hi", T0),
    ("yyyy/mm/dd", "2022/03/27, 21:41 - Ana: hi", T0),
    ("Android es p. m. with NBSP", "27/3/2022, 9:41 p.\u00a0m. - Ana: hi", T0),
    ("a.m./p.m. en-CA", "2022-03-27, 9:41 p.m. - Ana: hi", T0),
    ("lower-case pm", "27/03/2022, 9:41 pm - Ana: hi", T0),
    ("in the evening", "27/03/2022, 9:41 in the evening - Ana: hi", T0),
    ("at night, after midnight", "27/03/2022, 12:41 at night - Ana: hi", T0.replace(hour=0)),
    ("dotted 24h clock (id)", "27/03/22 21.41 - Ana: hi", T0),
    ("iOS fi: klo and dotted clock", "[27.3.2022 klo 21.41.35] Ana: hi", T),
    ("Arabic-Indic digits, Arabic comma, RLM, م",
     "٢٧\u200f/٣\u200f/٢٠٢٢، ٩:٤١ م - Ana: hi", T0),
    ("iOS Arabic with seconds", "[٢٧/٣/٢٠٢٢، ٩:٤١:٣٥ م] Ana: hi", T),
    ("Persian digits, year first", "۲۰۲۲/۳/۲۷، ۲۱:۴۱ - Ana: hi", T0),
    ("Devanagari digits", "२७/०३/२०२२, २१:४१ - Ana: hi", T0),
    ("Thai Buddhist year", "[3/27/2565 BE, 21:41:35] Ana: hi", T),
    ("Japanese era year", "[3/27/R4, 21:41:35] Ana: hi", T),
    ("Chinese marker before the time", "2019/6/20 下午3:04 - Ana: hi", PM_AT_3),
    ("Japanese marker before the time", "[2019/06/20 午後3:04:00] Ana: hi", PM_AT_3),
    ("Korean, two-digit year first", "19. 6. 20. 오후 3:04 - Ana: hi\n19. 6. 21. 오전 9:00 - Ana: next", PM_AT_3),
    ("Vietnamese time first", "[21:41:35, 27/3/22] Ana: hi", T),
    ("legacy ': ' terminator", "3/27/22, 9:41:35 PM: Ana: hi", T),
    ("BOM and LRM marks", "\ufeff\u200e[27/03/2022, 21:41:35] Ana: hi", T),
    ("Hungarian dotted year-first", "2022. 03. 27. 21:41 - Ana: hi", T0),
]


@pytest.mark.parametrize(("line", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_header_variant(tmp_path: Path, line: str, expected: dt.datetime) -> None:
    frame, quarantined = read(tmp_path, line + "\n")
    assert quarantined == []
    assert local(frame)[0] == expected
    assert frame["author_name"][0] == "Ana"
    assert frame["text"][0] == "hi"


def test_date_order_is_inferred_from_all_dates_of_the_file(tmp_path: Path) -> None:
    # The first dates are ambiguous (day and month both <= 12); a later one settles it.
    text = "01/02/21, 10:00 - Ana: a\n03/02/21, 10:00 - Ana: b\n25/02/21, 10:00 - Ana: c\n"
    frame, _ = read(tmp_path, text)
    assert [t.date() for t in local(frame)] == [dt.date(2021, 2, 1), dt.date(2021, 2, 3), dt.date(2021, 2, 25)]
    text = "01/02/21, 10:00 - Ana: a\n01/03/21, 10:00 - Ana: b\n01/25/21, 10:00 - Ana: c\n"
    frame, _ = read(tmp_path, text)
    assert [t.date() for t in local(frame)] == [dt.date(2021, 1, 2), dt.date(2021, 1, 3), dt.date(2021, 1, 25)]


def test_ambiguous_dates_follow_the_chat_day_by_day() -> None:
    # Both orders are valid for every date; read day-first the chat would jump a month at a time.
    dates = [(split_date(s), 1) for s in ["1/2/21", "1/3/21", "1/4/21", "1/5/21"]]
    assert infer_order(dates) == "MDY"
    dates = [(split_date(s), 1) for s in ["02.01.21", "03.01.21", "04.01.21"]]
    assert infer_order(dates) == "DMY"


def test_the_date_order_decided_early_is_checked_against_the_whole_file(tmp_path: Path) -> None:
    """The first chunk alone reads day-first; the rest of the file proves it month-first."""
    ambiguous = "".join(f"0{d}/0{m}/21, 10:00 - Ana: early {d}\n" for m in (1, 2) for d in range(1, 8))
    decisive = "".join(f"03/{d}/21, 10:00 - Ana: late {d}\n" for d in range(13, 29)) * 3
    path = tmp_path / "WhatsApp Chat with Order.txt"
    path.write_text(ambiguous + decisive)
    from connectors.whatsapp.parse import DateOrderChanged

    reader = ExportReader(path, Options(community="c"), chunk_bytes=256)
    with pytest.raises(DateOrderChanged) as changed:
        list(reader.batches())
    assert changed.value.order == "MDY"


def test_a_line_starting_with_a_byte_order_mark_reads_the_same_wherever_a_chunk_starts(tmp_path: Path) -> None:
    # A chat pasted after another export can hold U+FEFF at the start of a line, not just of the
    # file; the fast line splitter dropped it when the line happened to start a chunk.
    first = "12/01/2024, 09:00 - Ann: hello\n"
    path = tmp_path / "WhatsApp Chat with Bom.txt"
    path.write_text(first + "\ufeffpasted on\n12/01/2024, 09:01 - Bob: hi\n", encoding="utf-8")
    for size in (1 << 20, len(first.encode()), len(first.encode()) + 1):
        reader = ExportReader(path, Options(community="c"), chunk_bytes=size)
        texts = [t for b in reader.batches() if b.stream == "messages" for t in b.table["text"].to_pylist()]
        assert texts == ["hello\n\ufeffpasted on", "hi"], size


@pytest.mark.parametrize(("text", "seconds"), [
    ("9:41 AM", 9 * 3600 + 41 * 60), ("12:05 AM", 5 * 60), ("12:05 PM", 12 * 3600 + 5 * 60),
    ("00:08 a. m.", 8 * 60), ("3:22_AM", 3 * 3600 + 22 * 60), ("21.41.35", 21 * 3600 + 41 * 60 + 35),
    ("٩:٤١ ص", 9 * 3600 + 41 * 60), ("25:00", None), ("10:61", None),
])
def test_clock_spellings(text: str, seconds: int | None) -> None:
    assert seconds_of_day(text) == seconds


def test_time_zone_is_where_the_phone_was(tmp_path: Path) -> None:
    frame, _ = read(tmp_path, "27/03/2022, 21:41 - Ana: hi\n", tz="Europe/Paris")
    # 27 March 2022 is after the spring change: Paris is UTC+2.
    assert frame["sent_at"][0] == dt.datetime(2022, 3, 27, 19, 41, tzinfo=dt.timezone.utc)
    frame, _ = read(tmp_path, "27/03/2022, 02:30 - Ana: in the gap\n", tz="Europe/Paris")
    assert frame["sent_at"][0] == dt.datetime(2022, 3, 27, 1, 30, tzinfo=dt.timezone.utc)


def test_multiline_messages_crlf_and_out_of_order_lines(tmp_path: Path) -> None:
    text = ("[16/03/2022, 15:20:25] Ana: first line\r\nsecond line\r\n\r\nfourth line\r\n"
            "[16/03/2022, 18:39:29] Bo: later\r\n"
            "[16/03/2022, 18:35:51] Ana: earlier, but written after\r\n")
    frame, quarantined = read(tmp_path, text)
    assert quarantined == []
    assert frame["text"].to_list() == ["first line\nsecond line\n\nfourth line", "later", "earlier, but written after"]
    assert frame["position"].to_list() == [1, 5, 6]  # file order is kept, times are not sorted
    assert [t.time() for t in local(frame)] == [dt.time(15, 20, 25), dt.time(18, 39, 29), dt.time(18, 35, 51)]


def test_a_continuation_line_that_looks_like_a_date_but_has_no_header_shape(tmp_path: Path) -> None:
    text = "27/03/2022, 21:41 - Ana: the meeting is on\n28/03/2022 at the library\n"
    frame, quarantined = read(tmp_path, text)
    assert quarantined == []
    assert frame["text"].to_list() == ["the meeting is on\n28/03/2022 at the library"]


def test_phone_numbers_and_non_contacts_as_names(tmp_path: Path) -> None:
    text = ("[27/03/2022, 21:41:35] \u202a+44\u00a07700\u00a0900123\u202c: hello\n"
            "[27/03/2022, 21:41:36] ~\u202fSam Ray: hi\n")
    frame, _ = read(tmp_path, text)
    assert frame["author_name"].to_list() == ["+44 7700 900123", "Sam Ray"]


def test_identical_messages_in_the_same_minute_both_count(tmp_path: Path) -> None:
    text = "27/03/2022, 21:41 - Ana: ok\n27/03/2022, 21:41 - Ana: ok\n27/03/2022, 21:41 - Bo: ok\n"
    frame, _ = read(tmp_path, text)
    assert frame.height == 3
    assert frame["message_id"].n_unique() == 3


def test_chat_name_comes_from_the_file_name(tmp_path: Path) -> None:
    for file_name, chat in [("WhatsApp Chat with Makers.txt", "Makers"), ("WhatsApp Chat - Makers (1).txt", "Makers"),
                            ("Chat de WhatsApp con Makers.txt", "Makers"), ("export.txt", "export")]:
        path = tmp_path / file_name
        path.write_text("27/03/2022, 21:41 - Ana: hi\n")
        assert ExportReader(path, Options()).channel_name == chat
    assert ExportReader(path, Options(channel="Other")).channel_name == "Other"


def read_all(tmp_path: Path, text: str, name: str = "WhatsApp Chat with Test.txt") -> dict[str, pl.DataFrame]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    tables: dict[str, list] = {}
    for batch in ExportReader(path, Options(community="c")).batches():
        tables.setdefault(batch.stream, []).append(batch.table)
    return {k: pl.from_arrow(pa.concat_tables(v, promote_options="default")) for k, v in tables.items()}


def test_ios_group_events_said_by_the_group_are_system_lines_and_membership(tmp_path: Path) -> None:
    # Current iOS writes a group's events with the group's name (or the actor's) in the author's
    # place, the text after a left-to-right mark. They are not messages, and the group is no person.
    read = read_all(tmp_path, "\n".join([
        "[14.08.2024, 21:00:10] Boris: \u200eBoris created group “Makers”",
        "[14.08.2024, 21:00:11] Makers: \u200eBoris added you",
        "[14.08.2024, 21:00:12] Boris: \u200eBoris changed this group's icon",
        "[14.08.2024, 21:01:00] Boris: welcome!",
        "[19.10.2025, 01:02:19] Makers: \u200eRudi Anderson added Kim",
        "[19.10.2025, 01:03:19] Makers: \u200eKim left",
    ]) + "\n", name="WhatsApp Chat - Makers.txt")
    messages = read["messages"]
    assert messages.filter(pl.col("kind") == "message").select("author_name", "text").rows() == [("Boris", "welcome!")]
    assert messages.filter(pl.col("kind") == "system")["author_name"].null_count() == 5
    assert read["membership_events"].select("event", "account_id", "actor_id").rows() == [
        ("join", "whatsapp:c:Boris", None), ("add", "whatsapp:c:@exporter", "whatsapp:c:Boris"),
        ("add", "whatsapp:c:Kim", "whatsapp:c:Rudi Anderson"), ("leave", "whatsapp:c:Kim", None)]
    assert "Makers" not in read["accounts"]["display_name"].to_list()
    assert read["channels"]["kind"].to_list() == ["group"]


def test_an_attachment_named_like_a_group_event_is_a_message(tmp_path: Path) -> None:
    read = read_all(tmp_path, "[12/03/2021, 10:01:00] Kim: \u200e<attached: 00000012-Names added to the list.pdf>\n"
                              "[12/03/2021, 10:02:00] Kim: \u200e<attached: 00000013-Old items removed v2.xlsx>\n")
    assert read["messages"].select("kind", "author_name", "has_media").rows() == [("message", "Kim", True)] * 2
    assert "membership_events" not in read


@pytest.mark.parametrize("line", [
    'Ana creó el grupo "Reunión: martes"',
    "Ana hat die Gruppe „Treffen: 18 Uhr“ erstellt",
    'Ana criou o grupo "Aula: 10h"',
    'Ana ha creato il gruppo "Corso: base"',
    'Ana создал(-а) группу "Встреча: 10"',
    'Ana created group "Meetup: 6pm"',
])
def test_a_group_created_with_a_colon_in_its_name_is_a_system_line(tmp_path: Path, line: str) -> None:
    read = read_all(tmp_path, f"27/03/2022, 21:40 - {line}\n27/03/2022, 21:41 - Bo: hi\n")
    assert read["messages"].select("kind", "author_name").rows() == [("system", None), ("message", "Bo")]
    assert read["membership_events"].select("event", "account_id").rows() == [("join", "whatsapp:c:Ana")]


def test_members_listed_after_a_colon_are_added(tmp_path: Path) -> None:
    read = read_all(tmp_path, "27/03/2022, 21:41 - Ana добавил(-а) участников: Bo, Carl\n")
    assert read["messages"]["kind"].to_list() == ["system"]
    assert read["membership_events"].select("event", "account_id").rows() == [
        ("add", "whatsapp:c:Bo"), ("add", "whatsapp:c:Carl")]


def test_a_name_never_runs_over_lines(tmp_path: Path) -> None:
    # A continuation line that looks like a header without a name, then a clock with a colon.
    read = read_all(tmp_path, "27/03/2022, 21:40 - Ana: Schedule:\n28/03/2022, 10:00 - kickoff\n10:30: coffee\n")
    assert read["accounts"]["display_name"].to_list() == ["Ana"]
    assert read["messages"].select("kind", "author_name").rows() == [("message", "Ana"), ("system", None)]


def test_unpadded_dates_with_dots_or_dashes_are_day_first(tmp_path: Path) -> None:
    # Only slashes (`3/5/22`) are the US habit; Finnish `5.3.2022` and Dutch `5-3-2022` are day-first.
    for line in ("[5.3.2022 klo 21.41.35] Ana: hei", "5-3-2022 21:41 - Ana: hoi", "5.3.22 21:41 - Ana: hi"):
        frame, _ = read(tmp_path, line + "\n")
        assert [t.date() for t in local(frame)] == [dt.date(2022, 3, 5)], line
    frame, _ = read(tmp_path, "3/5/22, 21:41 - Ana: hi\n")
    assert [t.date() for t in local(frame)] == [dt.date(2022, 3, 5)]


def test_a_year_before_whatsapp_is_quarantined_not_loaded(tmp_path: Path) -> None:
    # A Persian phone's solar year (1401) is no Gregorian year: say so rather than load year 1401.
    frame, quarantined = read(tmp_path, "[۱۴۰۱/۱/۷, ۲۱:۴۱:۳۵] Ana: hi\n[27/03/2022, 21:42:00] Bo: hi\n")
    assert frame["author_name"].to_list() == ["Bo"]
    assert [(q["location"], q["reason"].split(":")[0]) for q in quarantined] == [
        ("line 1", "a year before WhatsApp (2009), or of a calendar the hub does not read")]


def test_a_chat_opening_with_a_long_message_is_recognised(tmp_path: Path) -> None:
    from connectors.whatsapp.source import looks_like_whatsapp

    text = "27/03/2022, 21:40 - Ana: minutes:\n" + "".join(f"- point {i}: done\n" for i in range(45)) \
        + "27/03/2022, 21:42 - Bo: thanks\n"
    assert looks_like_whatsapp(text.encode())
    assert not looks_like_whatsapp(b"minutes of the meeting\n" + text.encode())


def test_a_zip_with_a_shared_text_file_beside_the_chat(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "WhatsApp Chat with Makers.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "a document someone shared\n")
        z.writestr("WhatsApp Chat with Makers.txt", "27/03/2022, 21:40 - Ana: hi\n")
    reader = ExportReader(path, Options(community="c"))
    assert reader.channel_name == "Makers"
    assert sum(b.table.num_rows for b in reader.batches() if b.stream == "messages") == 1


@pytest.mark.parametrize("chunk_bytes", [16, 40, 1 << 20])
def test_an_unreadable_line_inside_a_message_takes_only_itself_to_quarantine(tmp_path: Path, chunk_bytes: int) -> None:
    path = tmp_path / "WhatsApp Chat with Test.txt"
    path.write_bytes(b"27/03/2022, 21:40 - Ana: shopping list:\nmilk\ncaf\xe9 beans\nbread\neggs\n"
                     b"27/03/2022, 21:42 - Bo: ok\n")
    batches = list(ExportReader(path, Options(community="c"), chunk_bytes=chunk_bytes).batches())
    messages = pl.from_arrow(pa.concat_tables([b.table for b in batches if b.stream == "messages"]))
    quarantined = [row for b in batches if b.stream == "quarantine" for row in b.table.to_pylist()]
    assert messages.select("author_name", "text").rows() == [("Ana", "shopping list:\nmilk\nbread\neggs"), ("Bo", "ok")]
    assert [q["location"] for q in quarantined] == ["line 3"]


@pytest.mark.parametrize(("line", "expected"), [
    ("[27/03/2022,\u200e 21:41:35] Ana: hi", T),
    ("[27/03/2022\u200e, 21:41:35] Ana: hi", T),
    ("27/03/2022 \u200e21:41 - Ana: hi", T0),
    ("27/03/2022, \u200f21:41 - Ana: hi", T0),
    ("\u200e27\u200e/\u200e03\u200e/\u200e2022, 21:41 - Ana: hi", T0),
    ("3/27/22, 9:41\u200e PM - Ana: hi", T0),
    ("3/27/22, 9:41\u202f\u200ePM - Ana: hi", T0),
])
def test_invisible_marks_anywhere_in_a_header(tmp_path: Path, line: str, expected: dt.datetime) -> None:
    # A mark in a place no sample shows must not turn the line into the previous message's text.
    before = "3/27/22, 9:40 PM - Bo: before\n" if line.startswith("3/") else "27/03/2022, 21:40 - Bo: before\n"
    frame, quarantined = read(tmp_path, before + line + "\n")
    assert not quarantined
    assert frame["author_name"].to_list() == ["Bo", "Ana"] and local(frame)[1] == expected


# -- dates that cannot be a message's, calendars, locales ----------------------------------


def test_thai_two_digit_buddhist_years_are_read_as_buddhist(tmp_path: Path) -> None:
    # Thai Android writes 2565 BE (2022) as `65`: read as 2065 the whole chat would be in the future.
    frame, quarantined = read(tmp_path, "12/3/65 21:41 - Anna: สวัสดี\n13/3/65 09:00 - Bob: สวัสดี\n")
    assert quarantined == []
    assert local(frame) == [dt.datetime(2022, 3, 12, 21, 41), dt.datetime(2022, 3, 13, 9, 0)]


@pytest.mark.parametrize(("line", "tz"), [
    ("12/03/2922, 21:42 - Anna: a damaged year", "UTC"),  # 2922 would be Buddhist: 2379
    ("31/12/9999, 23:59 - Anna: the last minute a date holds", "America/New_York"),  # UTC is in year 10000
])
def test_a_date_after_the_export_is_quarantined_with_its_line(tmp_path: Path, line: str, tz: str) -> None:
    text = f"12/03/2022, 21:41 - Anna: before\n{line}\nstill the same message\n13/03/2022, 21:41 - Anna: after\n"
    frame, quarantined = read(tmp_path, text, tz=tz)
    assert frame["text"].to_list() == ["before", "after"]
    assert [(q["location"], q["reason"].split(":")[0]) for q in quarantined] == [
        ("lines 2-3", "a date after the export was made")]
    assert quarantined[0]["raw"] == f"{line}\nstill the same message"


def test_the_future_is_judged_by_the_real_clock(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    in_three_days = today + dt.timedelta(days=3)
    tomorrow = today + dt.timedelta(days=1)
    text = (f"{today:%d/%m/%Y}, 00:01 - Anna: today\n"
            f"{in_three_days:%d/%m/%Y}, 10:00 - Anna: in three days\n"
            # Tomorrow's date passes, but 23:59 in Los Angeles is more than a day from now in UTC.
            f"{tomorrow:%d/%m/%Y}, 23:59 - Anna: tomorrow night in Los Angeles\n")
    frame, quarantined = read(tmp_path, text, tz="America/Los_Angeles")
    assert frame["text"].to_list() == ["today"]
    assert [(q["location"], q["reason"].split(":")[0]) for q in quarantined] == [
        ("line 2", "a date after the export was made"), ("line 3", "a time after the export was made")]


# Day periods as CLDR spells them, with each locale's own date.
DAY_PERIODS = [
    ("Punjabi", "12/3/22, 9:41 ਬਾ.ਦੁ. - Ana: hi", "13/3/22, 9:05 ਪੂ.ਦੁ. - Ana: hi"),
    ("Amharic", "12/03/2022, 9:41 ከሰዓት - Ana: hi", "13/03/2022, 9:05 ጥዋት - Ana: hi"),
    ("Icelandic", "12.3.2022, 9:41 e.h. - Ana: hi", "13.3.2022, 9:05 f.h. - Ana: hi"),
    ("Burmese", "12/3/22 9:41 ညနေ - Ana: hi", "13/3/22 9:05 နံနက် - Ana: hi"),
    ("Lao", "12/3/2022, 9:41 ຫຼັງທ່ຽງ - Ana: hi", "13/3/2022, 9:05 ກ່ອນທ່ຽງ - Ana: hi"),
    ("Sinhala", "2022-03-12 9.41 ප.ව. - Ana: hi", "2022-03-13 9.05 පෙ.ව. - Ana: hi"),
    ("Korean, wide", "22. 3. 12. 오후 9:41 - Ana: hi", "22. 3. 13. 오전 9:05 - Ana: hi"),
    ("Dutch, flexible", "12-03-2022 9:41 ’s avonds - Ana: hi", "13-03-2022 9:05 ’s ochtends - Ana: hi"),
    ("Chinese, flexible", "2022/3/12 晚上9:41 - Ana: hi", "2022/3/13 上午9:05 - Ana: hi"),
]


@pytest.mark.parametrize(("evening", "morning"), [c[1:] for c in DAY_PERIODS], ids=[c[0] for c in DAY_PERIODS])
def test_day_periods_of_other_locales(tmp_path: Path, evening: str, morning: str) -> None:
    frame, quarantined = read(tmp_path, f"{evening}\n{morning}\n")
    assert quarantined == []
    assert local(frame) == [dt.datetime(2022, 3, 12, 21, 41), dt.datetime(2022, 3, 13, 9, 5)]


def test_every_cldr_day_period_reads(tmp_path: Path) -> None:
    from connectors.whatsapp.day_periods import SPELLINGS

    text = "".join(f"12/03/2022, 9:41\u00a0{spelling} - Ana: {i}\n" for i, spelling in enumerate(SPELLINGS))
    frame, quarantined = read(tmp_path, text)
    assert quarantined == []
    assert frame["text"].to_list() == [str(i) for i in range(len(SPELLINGS))]
    assert {t.minute for t in local(frame)} == {41}


@pytest.mark.parametrize(("line", "hour"), [
    ("9:41 PM", 21), ("12:41 at night", 0), ("2:41 at night", 2), ("9:41 at night", 21),
    ("12:05 noon", 12), ("1:05 in the afternoon", 13), ("中午12:30", 12), ("中午1:30", 13), ("凌晨3:00", 3),
    ("9:41 ÖÖ", 9), ("9:41 ip.", 21),  # Turkish AM, not Estonian night; Finnish PM, not Inari Sami AM
])
def test_a_day_period_gives_the_half_of_the_day(line: str, hour: int) -> None:
    assert seconds_of_day(line) // 3600 == hour


def test_a_word_after_the_clock_that_is_no_day_period_is_no_header(tmp_path: Path) -> None:
    frame, quarantined = read(tmp_path, "12/03/2022, 21:40 - Ana: agenda\n12/03/2022, 9:41 meeting - room 4\n")
    assert quarantined == []
    assert frame["text"].to_list() == ["agenda\n12/03/2022, 9:41 meeting - room 4"]


# -- the date order of a file its dates alone cannot decide --------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    # One date, both orders possible: the Spanish day period says day-first.
    ("5/3/22, 9:00 a. m. - Ana: ¿Quedamos?\n5/3/22, 8:30 p. m. - Luis: Sí\n", dt.datetime(2022, 3, 5, 9, 0)),
    # ...where English ones keep US phones' month-first.
    ("3/5/22, 9:00 AM - Ana: ok\n3/5/22, 8:30 PM - Bo: ok\n", dt.datetime(2022, 3, 5, 9, 0)),
    # Korean is year-first.
    ("22. 3. 12. 오후 9:41 - Ana: 안녕\n22. 3. 12. 오후 9:45 - Bo: 안녕\n", dt.datetime(2022, 3, 12, 21, 41)),
])
def test_the_day_periods_locale_decides_an_ambiguous_date_order(tmp_path: Path, text: str,
                                                                expected: dt.datetime) -> None:
    frame, quarantined = read(tmp_path, text)
    assert quarantined == [] and local(frame)[0] == expected


def test_a_one_day_export_and_its_later_export_read_the_same(tmp_path: Path, con) -> None:
    from hub.config import HubConfig
    from hub.ingest import ingest_file

    first = "5/3/22, 9:00 a. m. - Ana: ¿Quedamos mañana?\n5/3/22, 9:05 a. m. - Luis: Sí\n"
    later = first + "6/3/22, 10:00 a. m. - Luis: Llegando\n"
    results = []
    for folder, text in (("first", first), ("later", later)):
        path = tmp_path / folder / "WhatsApp Chat with Taller.txt"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        report = ingest_file(con, path, config=HubConfig())
        assert report.error is None
        results.append((report.result.records, report.result.new))
    assert results == [(2, 2), (3, 1)]


# -- system lines ---------------------------------------------------------------------------


def test_an_ios_group_named_with_a_colon_says_its_events(tmp_path: Path) -> None:
    read = read_all(tmp_path, "\n".join([
        "[12/03/2022, 21:40:00] Meetup: 6pm: \u200eMessages and calls are end-to-end encrypted.",
        "[12/03/2022, 21:41:00] Meetup: 6pm: \u200eAnna added Bob",
        "[12/03/2022, 21:42:00] Anna: hello",
        "[12/03/2022, 21:43:00] Meetup: 6pm: \u200eBob left",
    ]) + "\n", name="WhatsApp Chat - Meetup 6pm.txt")
    assert read["messages"].select("kind", "author_name", "text").rows() == [
        ("system", None, "Messages and calls are end-to-end encrypted."), ("system", None, "Anna added Bob"),
        ("message", "Anna", "hello"), ("system", None, "Bob left")]
    assert read["membership_events"].select("event", "account_id", "actor_id").rows() == [
        ("add", "whatsapp:c:Bob", "whatsapp:c:Anna"), ("leave", "whatsapp:c:Bob", None)]
    assert sorted(read["accounts"]["display_name"].to_list()) == ["Anna", "Bob"]


@pytest.mark.parametrize(("line", "event", "account", "actor"), [
    ("Añadiste a Bob", "add", "Bob", "@exporter"),
    ("Saliste del grupo", "leave", "@exporter", None),
    ("Vous avez ajouté Bob", "add", "Bob", "@exporter"),
    ("Hai aggiunto Bob", "add", "Bob", "@exporter"),
    ("Вы добавили Bob", "add", "Bob", "@exporter"),
    ("You added Bob", "add", "Bob", "@exporter"),
    ("You left", "leave", "@exporter", None),
    ("Bob присоединился(-ась) по ссылке-приглашению в эту группу", "join", "Bob", None),
])
def test_the_exporters_own_group_events(tmp_path: Path, line: str, event: str, account: str,
                                        actor: str | None) -> None:
    read = read_all(tmp_path, f"12/03/2022, 21:40 - Ana: hi\n12/03/2022, 21:41 - {line}\n")
    assert read["messages"]["kind"].to_list() == ["message", "system"]
    assert read["membership_events"].select("event", "account_id", "actor_id").rows() == [
        (event, f"whatsapp:c:{account}", actor and f"whatsapp:c:{actor}")]


# -- files that are no chat -----------------------------------------------------------------


def test_a_text_without_a_message_line_is_refused_naming_it(tmp_path: Path, db_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli import app

    path = tmp_path / "x.txt"
    path.write_text("hello world\nthis is not a chat\n")
    result = CliRunner().invoke(app, ["ingest", str(path), "--platform", "whatsapp", "--db", str(db_path)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert f"{path}: not a chat export this hub can read (no WhatsApp message lines)" in said


def test_a_lone_chat_txt_is_named_by_the_folder_it_was_found_in_through_the_raw_store(tmp_path: Path, con) -> None:
    """iOS names the text `_chat.txt`: alone, its folder names the chat. The pipeline reads a copy in
    the raw store, in a folder named by its hash: the chat keeps the name of the folder it was found in."""
    from hub.config import HubConfig
    from hub.ingest import ingest_file
    from hub.landing import land

    found = tmp_path / "inbox" / "Makers" / "_chat.txt"
    found.parent.mkdir(parents=True)
    found.write_text("[12/03/2022, 21:41:00] Ana: hola\n[12/03/2022, 21:42:00] Bob: hi\n")
    landed = land(found, tmp_path / "raw")
    report = ingest_file(con, landed.stored_as, origin=found, config=HubConfig(), force=True)
    assert report.error is None and report.channel == "Makers"
    assert con.execute("SELECT channel_id, name FROM channels").fetchall() == [("whatsapp:default:Makers", "Makers")]
    again = ingest_file(con, found, config=HubConfig())  # read where it is: the same chat, nothing new
    assert (again.channel, again.result.new) == ("Makers", 0)


def test_a_file_reads_the_same_whatever_the_day_it_is_read(monkeypatch) -> None:
    """Ids hang on the dates: a one-day export whose day and month could swap (`12/1/26`) must not
    be read day-first while 1 December 2026 is still to come and month-first after it."""
    from connectors.whatsapp import header

    dates = [(split_date("12/1/26"), 2)]
    readings = set()
    for today in (dt.datetime(2026, 1, 13, tzinfo=dt.UTC), dt.datetime(2026, 12, 5, tzinfo=dt.UTC)):
        monkeypatch.setattr(header, "latest_instant", lambda today=today: today + dt.timedelta(days=1))
        readings.add(infer_order(dates))
    assert readings == {"MDY"}  # (unpadded, with slashes: the US habit, with nothing else to tell)
    assert infer_order([(split_date("25/3/65"), 1)]) == "DMY BE"  # 65: 2565 BE, that is 2022


def test_links_in_what_people_wrote(tmp_path: Path) -> None:
    # http(s) text (any case) is a link up to a space, without the punctuation closing a sentence
    # (a final ? or ! too); each once per message; a bare domain is not taken, nor what WhatsApp
    # itself wrote.
    tables = read_all(tmp_path, "\n".join([
        "27/03/2022, 21:41 - Ana: notes: https://example.org/a?x=1&y=2, and (http://b.example/c).",
        "27/03/2022, 21:42 - Bo: again https://example.org/a?x=1&y=2 and https://example.org/a?x=1&y=2",
        "27/03/2022, 21:43 - Bo: see example.org, or HTTPS://Example.org/b? or https://example.org/c!",
        "27/03/2022, 21:44 - Ana changed the group description to https://desc.example",
    ]) + "\n")
    messages = tables["messages"].select("message_id", "text")
    links = tables["links"].join(messages, on="message_id").sort("url")
    assert links.select("text", "url").rows() == [
        ("see example.org, or HTTPS://Example.org/b? or https://example.org/c!", "HTTPS://Example.org/b"),
        ("notes: https://example.org/a?x=1&y=2, and (http://b.example/c).", "http://b.example/c"),
        ("notes: https://example.org/a?x=1&y=2, and (http://b.example/c).", "https://example.org/a?x=1&y=2"),
        ("again https://example.org/a?x=1&y=2 and https://example.org/a?x=1&y=2", "https://example.org/a?x=1&y=2"),
        ("see example.org, or HTTPS://Example.org/b? or https://example.org/c!", "https://example.org/c")]
