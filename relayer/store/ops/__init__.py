"""The operations of one store transaction, grouped by concern (one mixin each)."""
