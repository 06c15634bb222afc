"""The package version (kept in step with pyproject.toml and meson.build)."""

__version__ = "0.1.0"
