"""teacher.provider: file: existing (situation, assessment) pairs stand in for the teacher."""
