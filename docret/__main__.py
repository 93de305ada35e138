"""``python -m docret``: the same as the ``docret`` command."""

from docret.cli import cli

if __name__ == "__main__":
    cli(prog_name="docret")
