"""loregate: the composition root (settings, app factory, CLI, wiring)."""

__version__ = "0.1.0"
