from toqio_local.runner import main

main()
