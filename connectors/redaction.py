"""Bot tokens never reach a log line: once a live connector uses a token, every log record made in
the process has it replaced by `[token]`, whichever library logs it.

The Telegram Bot API takes the token in the URL path (`/bot<token>/getUpdates`): httpx logs each
request's URL at INFO and python-telegram-bot its base URL at DEBUG. Filters on those loggers
would miss the next library that logs a URL, and the hub owns no log handler (Dagster, pytest or
the user install theirs), so the token is taken out where every record is made: the record factory.
"""

from __future__ import annotations

import logging
import threading
import traceback

MASK = "[token]"
_MIN_LENGTH = 8  # a shorter value would mask ordinary words; no real token is that short
_tokens: set[str] = set()
_lock = threading.Lock()
_installed = False


def keep_out_of_logs(token: str) -> None:
    """From now on, `token` is masked in every log record and in what `redact` is given."""
    global _installed
    if len(token) < _MIN_LENGTH:
        return
    with _lock:
        _tokens.add(token)
        if not _installed:
            make_record = logging.getLogRecordFactory()
            logging.setLogRecordFactory(lambda *args, **kwargs: _redacted(make_record(*args, **kwargs)))
            _installed = True


def redact(text: str) -> str:
    """`text` with every token in use masked (for error messages that quote a remote answer)."""
    for token in tuple(_tokens):
        text = text.replace(token, MASK)
    return text


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    if not _tokens:
        return record
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: the handler reports that, as ever
        return record
    if (clean := redact(message)) != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None:
        # A traceback is formatted by the handler, later: format it now, masked, in its place.
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if (clean := redact(text)) != text:
            record.exc_info, record.exc_text = None, clean
    return record
