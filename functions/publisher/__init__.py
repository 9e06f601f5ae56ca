"""The publisher function: the table's stream relayed to EventBridge as events."""
