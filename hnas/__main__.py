from hnas.cli import run

run()
