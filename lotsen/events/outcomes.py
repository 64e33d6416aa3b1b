"""(to be written)"""

from lotsen.events import bp, public_bp  # noqa: F401
