"""backbone: holds Python web services to the standard of a principal backend engineer."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
