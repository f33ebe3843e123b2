"""Crediting policy versions per region (child overrides parent), their officer pages, and
re-applying the policy in force to a period in the background."""
