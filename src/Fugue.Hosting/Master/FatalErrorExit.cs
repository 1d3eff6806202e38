namespace FugueHosting.Master;

/// <summary>
/// A master that cannot start (bad options, a port in use) says why in one line on stderr and exits with status 1,
/// instead of the runtime's abort (status 134, and a core dump where those are kept).
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
                Console.Error.WriteLine($"Fugue master {Environment.ProcessId} failed: {Describe(e.ExceptionObject as Exception)}");
                Console.Error.Flush();
                Environment.Exit(1);
            };
        }
    }

    private static string Describe(Exception? exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e is AggregateException ? "" : e.Message);
        }
        return string.Join(" ", messages.Where(m => m.Length > 0).Distinct());
    }
}
