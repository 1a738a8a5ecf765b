"""cbt-datagen."""
