"""Developer tools: stand-ins for the chat platforms' servers and webhook clients."""
