"""What WhatsApp itself writes into an export, in the languages we have seen it in.

Three kinds of text are told apart from what people write:
- system lines (encryption notices, security-code changes, missed calls, group events), which
  become `kind='system'`; an Android system line has no `Name: ` part at all, an iOS one carries
  the chat's name as if it were the author;
- media placeholders (`<Media omitted>`, `image omitted`, `<attached: …>`, `… (file attached)`),
  which are messages with `has_media`;
- group events (created, added, removed, left, joined), which also become membership events.

The regexes in UPPER_CASE run vectorized over every message (Rust `regex` syntax, which Python's
`re` also accepts); the membership patterns run only on system lines, in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LRM = "[\u200e\u200f]*"

# Text a person did not write, matched at the start of a message's text.
SYSTEM_TEXT = "^" + _LRM + "(?:" + "|".join([
    # End-to-end encryption notices, old and new, in the languages of our samples and the commonest others.
    r"Messages and calls are end-to-end encrypted",
    r"Messages (?:to|you send to) this (?:group|chat) are now secured with end-to-end encryption",
    r"Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt",
    r"Les messages et les appels sont chiffrés de bout en bout",
    r"Los mensajes y las llamadas están cifrados de extremo a extremo",
    r"As mensagens e (?:as )?chamadas são (?:protegidas|encriptadas)",
    r"I messaggi e le chiamate sono crittografati end-to-end",
    r"Berichten en gesprekken worden end-to-end versleuteld",
    r"Сообщения и звонки защищены сквозным шифрованием",
    r"Zprávy a hovory jsou zabezpečeny koncovým šifrováním",
    r"Mesajlar ve aramalar uçtan uca şifrelidir",
    r"Pesan dan panggilan terenkripsi secara end-to-end",
    # Security codes, calls, admin and number changes.
    r"Your security code with ",
    r"Deine Sicherheitsnummer für ",
    r"Missed (?:group )?(?:voice|video) call",
    r"Verpasster (?:Sprach|Video)anruf",
    r"(?:Llamada(?: de voz)?|Videollamada) perdida",
    r"Appel (?:vocal|vidéo) manqué",
    r"Chamada de (?:voz|vídeo) perdida",
    r"(?:Chiamata vocale|Videochiamata) persa",
    r"Пропущенный (?:аудио|видео)звонок",
    r"Zmeškaný (?:hovor|videohovor)",
    r"You're now an admin",
    r"This group was upgraded",
    r"You (?:un)?blocked this contact",
]) + ")"
# ...and phrases that follow a name, matched anywhere (as literals: much cheaper than `^.{1,80}`).
SYSTEM_TEXT_AFTER_NAME = "|".join(re.escape(p) for p in [
    "'s security code changed. ",
    " changed their phone number to a new number",
    " hat sich geändert. Tippe",
])

_MEDIA_TOKENS = "|".join([
    "Media omitted", "Medien ausgeschlossen", "Medien weggelassen", "Multimedia omitido", "Archivo omitido",
    "Médias omis", "Fichier omis", "Mídia oculta", "Mídia omitida", "Ficheiro não revelado",
    "Media omessi", "Media omesso", "Media weggelaten", "Без медиафайлов", "Файл пропущен",
    "Medya dahil edilmedi", "Medya atlanmış", "Media tidak disertakan", "Média vynechány",
    "Média vynechána", "رسانه حذف شد", "تم استبعاد الوسائط", "メディアは含まれていません", "メディアなし",
    "省略影音内容", "省略多媒体文件", "已省略多媒體檔案", "忽略多媒體檔", "미디어 파일을 생략한 대화내용",
    "미디어 파일 제외됨", "Bỏ qua Media", "bỏ qua tệp phương tiện", "ไฟล์สื่อถูกลบ", "สื่อถูกลบ", "मीडिया के बिना",
])
_ATTACHED = "|".join([
    "file attached", "Datei angehängt", "archivo adjunto", "fichier joint", "arquivo anexado",
    "ficheiro anexado", "file allegato", "bestand bijgevoegd", "файл добавлен", "dosya ekli",
    "file terlampir", "soubor byl přiložen", "الملف مرفق", "添付ファイル有り", "文件附件", "附件檔案",
    "파일 첨부됨", "tệp đính kèm", "ไฟล์ที่แนบ",
])
_OMITTED = "|".join([
    r"(?:image|video|audio|sticker|GIF|document|Contact card) omitted",
    r"(?:Bild|Video|Audio|Sticker|GIF|Dokument) weggelassen", "Kontaktkarte ausgelassen",
    r"(?:imagen|Tarjeta de contacto) omitida", r"(?:Video|audio|sticker|GIF|documento) omitido",
    r"(?:image|vidéo) absente", r"(?:audio|sticker) omis", "GIF retiré", "document manquant",
    "Fiche contact manquante", r"(?:immagine|Scheda contatto) omessa", r"(?:video|audio|documento) omesso",
    r"(?:afbeelding|video|audio|sticker|GIF|document) weggelaten",
    r"(?:gambar|video|audio|stiker|GIF|dokumen) tidak disertakan",
    r"(?:изображение|видео|аудиофайл|GIF|документ) отсутствует",
    r"imagem (?:ocultada|não revelada)", r"(?:vídeo|documento|sticker) não revelado",
])
# A media placeholder, whether or not the export carried the file itself.
MEDIA = (
    "(?i:^" + _LRM + "<(?:" + _MEDIA_TOKENS + ")>$)"          # Android, exported without media
    + "|\\((?:" + _ATTACHED + ")\\)"                          # Android, with media: "IMG-….jpg (file attached)"
    + "|<[^<>:\n]{1,40}: ?[^<>\n]{1,200}>"                     # iOS, with media: "<attached: 00000035-PHOTO-….jpg>"
    + "|(?:^|[\\s\u200e])(?:" + _OMITTED + ")$"             # iOS, without media: "image omitted"
)

YOU = "@exporter"  # The person who exported the chat: system lines call them "You".
_YOU_WORDS = {"you", "You", "dich", "Du", "te", "Te", "vous", "Vous", "você", "Você", "ti", "вас", "Вы", "Anda"}


@dataclass(frozen=True)
class Event:
    event: str  # join | leave | add | remove
    account: str  # a display name, or YOU
    actor: str | None


_LIST_SPLIT = re.compile(r",\s*(?:and\s+|y\s+|e\s+|und\s+|et\s+|и\s+)?|\s+(?:and|y|e|und|et|и)\s+")


def _names(text: str) -> list[str]:
    text = text.strip().rstrip(".")
    return [_who(n) for n in _LIST_SPLIT.split(text) if n.strip()]


def _who(name: str) -> str:
    name = clean_name(name)
    return YOU if name in _YOU_WORDS or name.lower() == "you" else name


def clean_name(name: str) -> str:
    """A display name without directional marks, the `~ ` of non-contacts, or odd spaces."""
    name = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]", "", name)
    name = re.sub("[\u00a0\u202f\u2009]", " ", name).strip()
    if name.startswith("~"):
        name = name[1:].strip()
    return name


# (pattern, event, who is affected: "actor", "targets", "you" (the exporter), or "yours" (the
# targets, the exporter acting)). First match wins; order matters.
_MEMBERSHIP = [(re.compile(p), e, who) for p, e, who in [
    (r"^(?P<actor>.+?) (?:created group|created this group)", "join", "actor"),
    (r"^(?P<targets>.+?) (?:was|were) added\.?$", "add", "targets"),
    (r"^(?P<actor>.+?) added (?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) removed (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) left\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) joined (?:using (?:this group's invite link|a group link|your invite)|from the community|via link)", "join", "actor"),
    # German
    (r"^(?P<actor>.+?) (?:hat|hast) die Gruppe „?\"?.*\"?“? erstellt", "join", "actor"),
    (r"^(?P<actor>.+?) (?:hat|hast) die Gruppe verlassen\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) (?:hat|hast) (?P<targets>.+?) hinzugefügt\.?$", "add", "targets"),
    (r"^(?P<actor>.+?) (?:hat|hast) (?P<targets>.+?) entfernt\.?$", "remove", "targets"),
    (r"^(?P<targets>.+?) wurde hinzugefügt\.?$", "add", "targets"),
    (r"^(?P<actor>.+?) (?:ist|bist) .*beigetreten\.?$", "join", "actor"),
    # Spanish
    (r"^Creaste el grupo", "join", "you"),
    (r"^Añadiste a (?P<targets>.+)$", "add", "yours"),
    (r"^Eliminaste a (?P<targets>.+)$", "remove", "yours"),
    (r"^Saliste del grupo\.?$", "leave", "you"),
    (r"^Te uniste usando el enlace de invitación", "join", "you"),
    (r"^(?P<actor>.+?) creó el grupo", "join", "actor"),
    (r"^(?P<actor>.+?) te añadió\.?$", "add", "you"),
    (r"^(?P<actor>.+?) añadió a (?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) eliminó a (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) salió del grupo\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) se unió usando el enlace de invitación", "join", "actor"),
    # Portuguese
    (r"^(?P<actor>.+?) criou o grupo", "join", "actor"),
    (r"^(?P<actor>.+?) adicionou (?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) removeu (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) saiu\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) entrou usando o link de convite", "join", "actor"),
    # Italian
    (r"^Hai creato il gruppo", "join", "you"),
    (r"^Hai aggiunto (?P<targets>.+)$", "add", "yours"),
    (r"^Hai rimosso (?P<targets>.+)$", "remove", "yours"),
    (r"^(?:Sei uscit[oa]|Hai abbandonato)\.?$", "leave", "you"),
    (r"^Sei entrat[oa] usando il link", "join", "you"),
    (r"^(?P<actor>.+?) ha creato il gruppo", "join", "actor"),
    (r"^(?P<actor>.+?) ti ha aggiunto\.?$", "add", "you"),
    (r"^(?P<actor>.+?) ha aggiunto (?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) ha rimosso (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) ha abbandonato\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) è entrat[oa] usando il link", "join", "actor"),
    # French
    (r"^Vous avez créé (?:le groupe|ce groupe)", "join", "you"),
    (r"^Vous avez ajouté (?P<targets>.+)$", "add", "yours"),
    (r"^Vous avez retiré (?P<targets>.+)$", "remove", "yours"),
    (r"^Vous êtes parti(?:\(e\)|e)?\.?$", "leave", "you"),
    (r"^Vous avez rejoint (?:ce groupe |le groupe )?(?:via|avec) le lien", "join", "you"),
    (r"^(?P<actor>.+?) a créé (?:le groupe|ce groupe)", "join", "actor"),
    (r"^(?P<actor>.+?) vous a ajouté\.?$", "add", "you"),
    (r"^(?P<actor>.+?) a ajouté (?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) a retiré (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) est parti(?:\(e\)|e)?\.?$", "leave", "actor"),
    (r"^(?P<actor>.+?) a rejoint (?:ce groupe |le groupe )?(?:via|avec) le lien", "join", "actor"),
    # Russian (Android writes gendered verbs as "добавил(-а)")
    (r"^Вы создали группу", "join", "you"),
    (r"^Вы добавили (?:участников: )?(?P<targets>.+)$", "add", "yours"),
    (r"^Вы удалили (?P<targets>.+)$", "remove", "yours"),
    (r"^Вы вышли\.?$", "leave", "you"),
    (r"^Вы присоединились по ссылке", "join", "you"),
    (r"^(?P<actor>.+?) присоединил(?:ся|ась|ся\(-ась\)) по ссылке", "join", "actor"),
    (r"^(?P<actor>.+?) создал(?:\(-а\)|а)? группу", "join", "actor"),
    (r"^(?P<actor>.+?) добавил(?:\(-а\)|а)? (?:участников: )?(?P<targets>.+)$", "add", "targets"),
    (r"^(?P<actor>.+?) удалил(?:\(-а\)|а)? (?P<targets>.+)$", "remove", "targets"),
    (r"^(?P<actor>.+?) вы(?:шел|шла|шел\(-а\))\.?$", "leave", "actor"),
]]


def membership_events(text: str) -> list[Event]:
    """The joins, leaves, adds and removes a system line reports (none for other system lines)."""
    text = clean_name(text) if len(text) < 2000 else text
    if text in ("You were added", "You joined using this group's invite link"):
        return [Event("add" if "added" in text else "join", YOU, None)]
    for pattern, event, who in _MEMBERSHIP:
        found = pattern.match(text)
        if not found:
            continue
        actor = _who(found["actor"]) if "actor" in found.groupdict() and found["actor"] else None
        if who == "actor":
            return [Event(event, actor, None)] if actor else []
        if who == "you":
            return [Event(event, YOU, actor)]
        if who == "yours":  # the exporter did it, in the second person ("Añadiste a Bob")
            actor = YOU
        return [Event(event, target, actor) for target in _names(found["targets"])]
    return []


def is_group_event(text: str) -> bool:
    return bool(membership_events(text))
