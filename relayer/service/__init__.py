"""The relayer's shell services: the one writer, gossip, submission, settlement."""
