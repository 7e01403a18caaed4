"""The folded state: sessions, exercises and progress, the fold that is its only writer,
and the lifecycle's rules."""
