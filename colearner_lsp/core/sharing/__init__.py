"""What may leave the student's machine and what does: repository paths, the coach's
scope rules, and evidence snapshots taken with git (entries, diff, summary)."""
