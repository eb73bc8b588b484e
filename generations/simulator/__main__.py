from generations.simulator.server import main

main()
