"""Write a simulated community as a WhatsApp "Export chat" file, in a chosen OS/locale variant.

Android writes `WhatsApp Chat with NAME.txt` with `date, time - Name: text` lines; iOS writes
`WhatsApp Chat - NAME.zip` holding `_chat.txt` with `[date, time] Name: text` lines, CRLF line
ends and U+200E marks before placeholders. Each variant reproduces one real locale's date and
clock, so round-trip tests cover what the parser must read.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hub.simulate import Simulation

LRM = "\u200e"
NNBSP = "\u202f"
NBSP = "\u00a0"

_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class Language:
    e2e: str
    created: str
    added: str
    joined: str
    left: str
    removed: str
    media_android: str
    media_ios: str


EN = Language(
    e2e="Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, "
        "can read or listen to them.",
    created='{actor} created group "{name}"', added="{actor} added {target}",
    joined="{who} joined using this group's invite link", left="{who} left", removed="{actor} removed {target}",
    media_android="<Media omitted>", media_ios="image omitted",
)
DE = Language(
    e2e="Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie "
        "lesen oder anhören, nicht einmal WhatsApp.",
    created='{actor} hat die Gruppe "{name}" erstellt.', added="{actor} hat {target} hinzugefügt.",
    joined="{who} ist über den Einladungslink dieser Gruppe beigetreten.", left="{who} hat die Gruppe verlassen.",
    removed="{actor} hat {target} entfernt.", media_android="<Medien ausgeschlossen>", media_ios="Bild weggelassen",
)
ES = Language(
    e2e="Los mensajes y las llamadas están cifrados de extremo a extremo.",
    created='{actor} creó el grupo "{name}"', added="{actor} añadió a {target}",
    joined="{who} se unió usando el enlace de invitación de este grupo", left="{who} salió del grupo",
    removed="{actor} eliminó a {target}", media_android="<Multimedia omitido>", media_ios="imagen omitida",
)


def _h12(t: dt.datetime, am: str, pm: str) -> tuple[int, str]:
    return (t.hour % 12 or 12), (am if t.hour < 12 else pm)


@dataclass(frozen=True)
class Variant:
    """One phone's way of writing a header: its stamp, OS layout, language and digits."""

    stamp: Callable[[dt.datetime], str]
    ios: bool
    language: Language = EN
    digits: dict | None = None


VARIANTS: dict[str, Variant] = {
    "android_en_gb": Variant(lambda t: f"{t:%d/%m/%Y, %H:%M}", ios=False),
    "android_en_us": Variant(lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t, 'AM', 'PM')[0]}:{t:%M}{NNBSP}"
                                       f"{_h12(t, 'AM', 'PM')[1]}", ios=False),
    "android_de": Variant(lambda t: f"{t:%d.%m.%y, %H:%M}", ios=False, language=DE),
    "android_es": Variant(lambda t: f"{t.day}/{t.month}/{t:%Y}, {_h12(t, 'a.', 'p.')[0]}:{t:%M} "
                                    f"{_h12(t, 'a.', 'p.')[1]}{NBSP}m.", ios=False, language=ES),
    "android_ar": Variant(lambda t: f"{t.day}\u200f/{t.month}\u200f/{t.year}، {_h12(t, 'ص', 'م')[0]}:{t:%M} "
                                    f"{_h12(t, 'ص', 'م')[1]}", ios=False, digits=_ARABIC_DIGITS),
    "android_fa": Variant(lambda t: f"{t.year}/{t.month}/{t.day}، {t:%H:%M}", ios=False, digits=_PERSIAN_DIGITS),
    "android_ko": Variant(lambda t: f"{t:%y}. {t.month}. {t.day}. {_h12(t, '오전', '오후')[1]} "
                                    f"{_h12(t, '', '')[0]}:{t:%M}", ios=False),
    "android_id": Variant(lambda t: f"{t:%d/%m/%y %H.%M}", ios=False),
    "ios_en_us": Variant(lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t, 'AM', 'PM')[0]}:{t:%M:%S}{NNBSP}"
                                   f"{_h12(t, 'AM', 'PM')[1]}", ios=True),
    "ios_en_gb": Variant(lambda t: f"{t:%d/%m/%Y, %H:%M:%S}", ios=True),
    "ios_de": Variant(lambda t: f"{t:%d.%m.%y, %H:%M:%S}", ios=True, language=DE),
    "ios_fr": Variant(lambda t: f"{t:%d/%m/%Y %H:%M:%S}", ios=True),
    "ios_vi": Variant(lambda t: f"{t:%H:%M:%S}, {t.day}/{t.month}/{t:%y}", ios=True),
    "ios_ja_era": Variant(lambda t: f"{t.month}/{t.day}/R{t.year - 2018}, {t:%H:%M:%S}", ios=True),
    "ios_th_buddhist": Variant(lambda t: f"{t.month}/{t.day}/{t.year + 543} BE, {t:%H:%M:%S}", ios=True),
    "ios_zh": Variant(lambda t: f"{t.year}/{t.month}/{t.day} {t:%H:%M:%S}", ios=True),
}


def file_name(sim: Simulation, variant: str) -> str:
    return (f"WhatsApp Chat - {sim.name}.zip" if VARIANTS[variant].ios
            else f"WhatsApp Chat with {sim.name}.txt")


def render(sim: Simulation, variant: str) -> str:
    """The export's text, exactly as the phone would write it."""
    return "".join(lines(sim, variant))


def lines(sim: Simulation, variant: str) -> Iterator[str]:
    """The export's lines, each with the variant's line end."""
    v = VARIANTS[variant]
    lang = v.language
    stamps: dict[dt.datetime, str] = {}

    def header(at: dt.datetime) -> str:
        s = stamps.get(at)
        if s is None:
            s = v.stamp(at)
            if v.digits:
                s = s.translate(v.digits)
            s = f"[{s}] " if v.ios else f"{s} - "
            stamps[at] = s
        return s

    nl = "\r\n" if v.ios else "\n"
    yield _e2e_line(sim, v, header) + nl
    for m in sim.messages:
        if m.kind == "system":
            text = _system_text(sim, lang, m.event)
            yield (f"{LRM}{header(m.at)}{text}" if v.ios else f"{header(m.at)}{text}") + nl
        elif m.media:
            yield (f"{LRM}{header(m.at)}{m.author}: {LRM}{lang.media_ios}" if v.ios
                   else f"{header(m.at)}{m.author}: {lang.media_android}") + nl
        else:
            yield f"{header(m.at)}{m.author}: {m.text.replace(chr(10), nl)}{nl}"


def _e2e_line(sim: Simulation, v: Variant, header: Callable[[dt.datetime], str]) -> str:
    at = dt.datetime.combine(sim.start, dt.time(8, 59))
    if v.ios:
        return f"{header(at)}{sim.name}: {LRM}{v.language.e2e}"
    return f"{header(at)}{v.language.e2e}"


def _system_text(sim: Simulation, lang: Language, event: tuple[str, str, str | None]) -> str:
    kind, who, actor = event
    if kind == "created":
        return lang.created.format(actor=who, name=sim.name)
    if kind == "add":
        return lang.added.format(actor=actor, target=who)
    if kind == "remove":
        return lang.removed.format(actor=actor, target=who)
    if kind == "join":
        return lang.joined.format(who=who)
    return lang.left.format(who=who)


def write_export(sim: Simulation, folder: Path, variant: str = "android_en_gb") -> Path:
    """Write the export file into `folder` (a .txt for Android, a .zip with _chat.txt for iOS)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(sim, variant)
    if VARIANTS[variant].ios:
        # Stamped with the day the chat ends, not the clock: the same simulation, the same bytes
        # (the warehouse records files by their hash).
        def entry(name: str) -> zipfile.ZipInfo:
            info = zipfile.ZipInfo(name, (*sim.end.timetuple()[:3], 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            return info

        with zipfile.ZipFile(path, "w") as archive:
            with archive.open(entry("_chat.txt"), "w") as f:
                _write_lines(f, lines(sim, variant))
            archive.writestr(entry("__MACOSX/._chat.txt"), b"\x00\x05\x16\x07")  # as macOS zips do
    else:
        with open(path, "wb") as f:
            _write_lines(f, lines(sim, variant))
    return path


def _write_lines(f, rows: Iterator[str], batch: int = 10000) -> None:
    buffer: list[str] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= batch:
            f.write("".join(buffer).encode("utf-8"))
            buffer.clear()
    f.write("".join(buffer).encode("utf-8"))


def expected_rows(sim: Simulation) -> list[tuple[dt.datetime, str | None, str]]:
    """(local time, author, kind) of every message the export holds, for round-trip checks."""
    start = dt.datetime.combine(sim.start, dt.time(8, 59))
    return [(start, None, "system")] + [(m.at, m.author, m.kind) for m in sim.messages]

