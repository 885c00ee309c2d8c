from stimgen.cli import main

main()
