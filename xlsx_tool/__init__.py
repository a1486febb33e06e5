"""xlsx-tool: a yearly progress survey run end to end in Excel workbooks."""

__version__ = "0.1.0"
