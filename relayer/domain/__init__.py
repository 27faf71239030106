"""The pure core: values and rules with no I/O."""
