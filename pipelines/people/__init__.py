"""One person across platforms, and the interaction graph between persons."""
