"""ipcgrade: grade IPC assignments by observing student programs from outside."""
