"""admin of groups."""
