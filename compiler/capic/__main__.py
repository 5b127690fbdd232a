from capic.cli import main

main()
