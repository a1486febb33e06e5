"""xlsx-tool: a yearly progress survey run end to end in Excel workbooks."""

__version__ = "0.2.0"
