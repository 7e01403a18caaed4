"""What an instance keeps on disk: the SQLite ledger, the record of what it published,
and setting a damaged ledger aside."""
