"""Each configured Telegram bot, polled for its updates."""
