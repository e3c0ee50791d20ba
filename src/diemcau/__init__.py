"""diemcau — online conference system for Vietnamese provincial governments."""

__version__ = "0.1.0"
