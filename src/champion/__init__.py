"""champion: continuous retraining and safe model release on open parts."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
