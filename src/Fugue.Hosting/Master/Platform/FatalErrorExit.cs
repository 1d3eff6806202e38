using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Platform;

/// <summary>
/// A master that cannot start (bad options, a port in use) says why in one line on stderr and exits with status 1,
/// instead of the runtime's abort (status 134, and a core dump where those are kept). Bad input (the options'
/// validation, the binder, Fugue's own checks: <see cref="InvalidOperationException"/>s that name the key) needs no
/// more; anything else is a bug, and the line is followed by its stack trace.
/// </summary>
internal static class FatalErrorExit
{
    private static int s_installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            {
                var exception = e.ExceptionObject as Exception;
                Console.Error.WriteLine($"Fugue master {Environment.ProcessId} failed: {Describe(exception)}");
                if (!IsBadInput(exception))
                {
                    Console.Error.WriteLine(exception);
                }
                Console.Error.Flush();
                Environment.Exit(1);
            };
        }
    }

    private static bool IsBadInput(Exception? exception)
    {
        while (exception is AggregateException { InnerException: { } inner })
        {
            exception = inner;
        }
        return exception is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException;
    }

    /// <summary>
    /// Every message of the chain, outermost first (a file's error wraps the parser's, which has the line), on one line:
    /// a value quoted in it may hold anything the configuration held, a newline or an escape sequence too.
    /// </summary>
    public static string Describe(Exception? exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e is AggregateException ? "" : e.Message);
        }
        return ControlCharacters.Escape(string.Join(" ", messages.Where(m => m.Length > 0).Distinct()));
    }
}
