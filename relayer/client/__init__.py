"""What a user of the bridge runs: lock, burn, follow a transfer."""
