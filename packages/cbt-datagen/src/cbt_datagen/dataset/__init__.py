"""Dataset assembly: join (join.py), duplicates (dedup.py), split (split.py), chat examples
(chat.py), token counts (tokens.py), the diversity report (report.py, figure.py).
The CLI that runs them in order is cbt_datagen.commands.dataset."""
