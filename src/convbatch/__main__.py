from convbatch.cli import main

main()
