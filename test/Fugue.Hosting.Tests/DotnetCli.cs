using System.Diagnostics;

namespace Fugue.Hosting.Tests;

/// <summary>The SDK's own commands, as a test runs them: <c>dotnet pack</c>, <c>dotnet publish</c>.</summary>
internal static class DotnetCli
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/>; fails the test unless it exits 0 within 5 minutes. Its output.</summary>
    public static string Run(params string[] arguments)
    {
        using var dotnet = Process.Start(new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        // Both pipes at once: one left unread could fill and stall the other.
        var output = dotnet.StandardOutput.ReadToEndAsync();
        var error = dotnet.StandardError.ReadToEndAsync();
        Assert.True(dotnet.WaitForExit(TimeSpan.FromMinutes(5)), $"dotnet {string.Join(' ', arguments)} did not finish");
        string log = output.Result + error.Result;
        Assert.True(dotnet.ExitCode == 0, log);
        return log;
    }
}
