"""cbt-train."""
