"""Conflux Core Space: its JSON-RPC (``cfx_*``, epochs, CIP-37 addresses, receipts read by
``outcomeStatus``) and its transactions (storage collateral, epoch height), beside the EVM
layer of ``relayer.chain`` (docs/chain.md, "Core Space")."""
