"""(to be written)"""

from lotsen.audiences import bp  # noqa: F401
