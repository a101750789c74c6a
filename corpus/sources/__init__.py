"""One module per raw data source; each turns registry files into plain records."""
