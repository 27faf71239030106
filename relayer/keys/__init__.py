"""Validator keys behind one ``Signer`` interface (``signer.py``).

Backends: an encrypted keystore (``keystore.py``; the dev-only raw keys too), a key
inside an HSM reached over PKCS#11 (``hsm.py``) and an AWS KMS key (``kms.py``, its DER
answers parsed in ``der.py``). ``transaction.py`` signs Ethereum
transactions through any of them, so nothing outside a backend touches key material.
"""

from relayer.keys.keystore import (
    KeystoreSigner,
    load_keystore,
    new_keystore,
    read_secret_file,
    signer_from_hex,
    warn_if_readable_by_others,
)
from relayer.keys.signer import Signer
from relayer.keys.transaction import SignedTransaction, sign_transaction

__all__ = [
    "KeystoreSigner",
    "SignedTransaction",
    "Signer",
    "load_keystore",
    "new_keystore",
    "read_secret_file",
    "sign_transaction",
    "signer_from_hex",
    "warn_if_readable_by_others",
]
