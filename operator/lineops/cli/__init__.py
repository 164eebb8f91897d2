"""The `lineops` command line."""
