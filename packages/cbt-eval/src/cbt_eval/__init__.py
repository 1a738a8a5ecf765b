"""cbt-eval."""
