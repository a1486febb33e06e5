"""Exceptions that mean "this command cannot continue"; findings are Problems instead."""


class ToolError(Exception):
    """A failure the user can fix; the message is one Japanese sentence."""


class SurveyError(ToolError):
    """The survey folder, its definition or its master cannot be used."""


class OutputError(ToolError):
    """An output file cannot be written."""


class FormWriteError(ToolError):
    """xlsxwriter refused a value while a workbook was being written."""
