"""How the bridge makes itself known: mDNS advertising and Supervisor discovery."""
