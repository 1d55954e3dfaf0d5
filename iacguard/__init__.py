"""iacguard: a pre-deployment linter for infrastructure as code.

For tools that embed it: ``iacguard.scan(paths, ...)`` returns the result model (iacguard/api.py).
"""

from iacguard.api import scan

__version__ = "0.1.0"
__all__ = ["__version__", "scan"]
