"""iacguard: a pre-deployment linter for infrastructure as code."""

__version__ = "0.1.0"
