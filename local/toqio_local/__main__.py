"""``python -m toqio_local``: the local runner (API and AWS emulator), as ``make run``."""

from toqio_local.runner import main

main()
