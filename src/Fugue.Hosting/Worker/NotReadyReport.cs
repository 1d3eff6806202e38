using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Says why a worker is not ready yet, once per new reason: logged (event 106) and written to stderr, which the
/// master quotes when it gives up on the worker at WorkerBootTimeout (so <c>fugue reload</c> exits with it).
/// </summary>
internal sealed class NotReadyReport(WorkerIdentity identity, ILogger logger)
{
    private string? _last;

    public async Task SayAsync(string verdict)
    {
        if (verdict == _last)
        {
            return;
        }
        _last = verdict;
        WorkerLog.NotReady(logger, identity.WorkerId, Environment.ProcessId, verdict);
        await Console.Error.WriteLineAsync($"not ready: {verdict}").ConfigureAwait(false);
    }
}
