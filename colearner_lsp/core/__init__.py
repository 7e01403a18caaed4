"""The pure core: no LSP, Kafka or terminal imports (``tests/core/test_architecture.py``).

Subpackages by domain, each importing only those listed beside it in the README's "How
it is built": ``protocol`` (the wire), ``store`` (the ledger), ``model`` (the fold),
``anchor``, ``sharing`` (scope and evidence), ``reports``, ``review``. The modules left
here join them into one instance (``instance``, ``intake``, ``actions``) or are shared by
all (``config``, ``errors``, ``display``, ``identity``, ``fingerprint``, ``private_files``,
``schemas``).
"""
