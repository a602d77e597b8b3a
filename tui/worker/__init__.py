"""Work the TUI runs outside its UI thread: one patch's check (runs.py), in the fuzz
child process (child.py) that it talks to in protocol.py's messages."""
