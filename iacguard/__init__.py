"""iacguard: a pre-deployment linter for infrastructure as code.

For tools that embed it: ``iacguard.scan(paths, ...)`` returns the result model (iacguard/api.py).
"""

from iacguard.api import scan
from iacguard.version import __version__

__all__ = ["__version__", "scan"]
