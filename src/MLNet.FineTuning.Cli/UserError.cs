namespace MLNet.FineTuning.Cli;

/// <summary>
/// Something the user can fix (a path, a column, an option): printed as its message alone, exit code 1.
/// Anything else that escapes a command is an internal failure (exit code 2).
/// </summary>
internal sealed class UserError(string message, Exception? inner = null) : Exception(message, inner);
