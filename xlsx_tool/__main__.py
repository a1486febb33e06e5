"""`python -m xlsx_tool …`: the same as the xlsx-tool command."""

from xlsx_tool.cli import main

if __name__ == "__main__":  # worker processes are started with "spawn" and import this module
    main()
