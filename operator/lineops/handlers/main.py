"""The module kopf loads (`kopf run -m lineops.handlers.main`): importing it registers
every handler."""

from lineops.handlers import children, lifecycle, line, model

__all__ = ["children", "lifecycle", "line", "model"]
