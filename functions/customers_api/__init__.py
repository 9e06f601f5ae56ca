"""The customers API function: Create Customer and Find Customer."""
