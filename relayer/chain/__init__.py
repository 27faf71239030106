"""Chain I/O: RPC client, confirmation rules, event watcher, decoders, transaction submitter."""
