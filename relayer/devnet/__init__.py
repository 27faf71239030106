"""Local chains and processes for development and tests: anvil, a conflux-rust dev node."""
