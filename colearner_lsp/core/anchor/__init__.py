"""Anchors: an exercise pinned to lines of a file and found again after the file changed
(the text model, the search, and making an anchor from a checkout)."""
