"""FinParakeet: adapt Parakeet-TDT to financial speech and score it on finance entities.

Submodules are imported on demand; importing the package itself is cheap (no NeMo, no torch).
"""

__version__ = "0.1.0"
