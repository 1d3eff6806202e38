using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Activation;

/// <summary>Says once, at start, why Fugue is not running this app as a cluster.</summary>
internal sealed partial class SingleProcessNotice(string reason, bool unsupported, ILogger<SingleProcessNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The app chose it (Enabled=false, a debugging session, a test server): information; the platform: a warning.
        if (unsupported)
        {
            LogUnsupported(logger, reason);
        }
        else
        {
            LogSingle(logger, reason);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(201, LogLevel.Information, "Fugue: single process ({Reason})")]
    private static partial void LogSingle(ILogger logger, string reason);

    [LoggerMessage(202, LogLevel.Warning, "Fugue: single process ({Reason})")]
    private static partial void LogUnsupported(ILogger logger, string reason);
}
