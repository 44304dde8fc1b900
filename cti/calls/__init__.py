"""The pure call model: values, events, commands, services (decide) and evolve. No I/O."""
