from lmdoctor.cli import entry

entry()
