"""The package version, in one place (read by hatchling and by every saved result)."""
__version__ = "0.1.0"
