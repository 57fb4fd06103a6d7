from lmdoctor.cli import main

main()
