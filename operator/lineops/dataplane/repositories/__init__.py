"""SQLAlchemy repositories of the data plane: one per aggregate, all on one engine."""

from typing import Final

# Ids or names one IN list holds at most: PostgreSQL takes 65,535 bound parameters in a
# statement, and a list of 100,000 (a release's default limit, a model's judged lots) failed.
IN_LIST_SIZE: Final = 10_000
