"""`python cli.py ...` runs the followup CLI from a checkout; the commands live in followup/cli.py."""

from followup.cli import main

if __name__ == "__main__":
    main()
