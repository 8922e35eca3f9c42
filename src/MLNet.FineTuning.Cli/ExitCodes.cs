namespace MLNet.FineTuning.Cli;

/// <summary>The tool's exit codes, and the one place where an exception becomes a message and a code.</summary>
internal static class ExitCodes
{
    public const int Success = 0, UserFault = 1, InternalFailure = 2;

    /// <summary>Runs a command; a user's mistake prints its message, anything else a one-line report. No stack trace
    /// is printed unless MLNET_FINETUNE_TRACE=1.</summary>
    public static int Run(Func<int> command)
    {
        bool trace = Environment.GetEnvironmentVariable("MLNET_FINETUNE_TRACE") == "1";
        try
        {
            return command();
        }
        catch (Exception e) when (IsUsers(e) is Exception users)
        {
            Console.Error.WriteLine($"error: {users.Message}");
            if (trace) Console.Error.WriteLine(e);
            return UserFault;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("stopped: a checkpoint was saved in the output folder; run the same command with --resume to continue.");
            return UserFault;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"internal failure ({e.GetType().Name}): {e.Message}");
            Console.Error.WriteLine(trace ? e.ToString() : "Run again with MLNET_FINETUNE_TRACE=1 for the stack trace, and report it with that output.");
            return InternalFailure;
        }
    }

    // The library names the column, file or option in the messages of these exceptions (argument checks, missing
    // files, unreadable data), so they are the user's to fix. ML.NET and System.CommandLine wrap them at times.
    static Exception? IsUsers(Exception e)
    {
        for (var x = e; x != null; x = x.InnerException)
            if (x is UserError or ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException
                  or Training.TrainingDivergedException      // names the step and the rate to lower
                  or Training.TrainingOutOfMemoryException)  // names the batch and a smaller batch size
                return x;
        return null;
    }
}
