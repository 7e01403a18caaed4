"""Reviewing the student's work: the shared diff read back, the student's version of each
evidence file rebuilt from it (or from the blob), and the queue of answers waiting.

Pure like the rest of the core: git is asked for objects only (``git cat-file``), never
for the coach's working tree, which nothing here reads or writes.
"""
