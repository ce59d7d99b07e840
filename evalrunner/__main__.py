from evalrunner.cli import main

main()
