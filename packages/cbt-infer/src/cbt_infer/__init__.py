"""cbt-infer."""
