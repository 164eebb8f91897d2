"""SQLAlchemy repositories of the data plane: one per aggregate, all on one engine."""
