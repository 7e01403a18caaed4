"""The wire: event models (each type declared once), strict decoding, signatures, sealing,
chains, writing a stream and judging one message as read. Knows nothing of the ledger."""
