namespace MLNet.FineTuning;

/// <summary>
/// Argument checks that always run (ML.NET's <c>Contracts</c> is internal, and its asserts vanish in release
/// builds). Messages name the option and the allowed range. In the runtime package because the tokenizer is there;
/// the namespace is the training library's, which sees it through InternalsVisibleTo, so its callers need no using.
/// </summary>
internal static class Check
{
    public static T NotNull<T>(T? value, string name) where T : class =>
        value ?? throw new ArgumentNullException(name);

    public static void Range(bool ok, string option, string expected, object? actual)
    {
        if (!ok) throw new ArgumentOutOfRangeException(option, actual, $"{option} must be {expected}; got {actual}.");
    }
}
