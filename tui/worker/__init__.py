"""Work the TUI runs outside its UI thread: the fuzz child process and its protocol."""
