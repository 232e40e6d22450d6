"""`python -m hipspine ...`: the same command line as `hipspine ...`."""

from hipspine.cli import main

main()
