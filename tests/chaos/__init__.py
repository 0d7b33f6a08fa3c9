"""The chaos suite: the hub under load while its processes and servers die."""
