"""The selective forwarding unit: transports, producers, consumers, rooms."""
