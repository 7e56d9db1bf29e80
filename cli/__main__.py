from flowphase.cli import console_main

console_main()
