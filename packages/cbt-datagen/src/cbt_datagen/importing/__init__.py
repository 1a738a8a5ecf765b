"""The import source: existing (situation, assessment) pairs stand in for the teacher
(teacher.file; cbt_datagen.sources)."""
