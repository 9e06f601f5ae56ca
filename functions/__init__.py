"""The Lambda functions of the stack, one package each (its app.py is the handler)."""
