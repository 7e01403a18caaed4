"""What the coach reads back: the dashboard's figures and blockers, and a session's
replayed history."""
