using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Readiness gated on the app's own health checks: a worker that listens but cannot do its work (no database) does not
/// say ready nor accept from the shared sockets, so a HUP's replacement never takes a slot or a request, and a USR2's
/// new master never takes over; the master's
/// WorkerBootTimeout ends the attempt and the old ones keep serving. The checks tagged <c>Fugue:ReadinessTag</c> run
/// (all of them when none has the tag), every half second until Healthy. Each new verdict is logged and written to
/// stderr, which the master quotes when it gives up on the worker.
/// </summary>
internal sealed class HealthGate(HealthCheckService health, IOptions<HealthCheckServiceOptions> checks, WorkerIdentity identity, string tag,
    ILogger<HealthGate> logger)
{
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(500);

    private readonly TaskCompletionSource _healthy = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the checks have reported Healthy: until then the worker accepts nothing from the shared sockets.</summary>
    public Task Healthy => _healthy.Task;

    /// <summary>Completes when the checks report Healthy, or when the worker stops; never throws.</summary>
    public async Task WaitHealthyAsync(CancellationToken stopping)
    {
        bool tagged = checks.Value.Registrations.Any(r => r.Tags.Contains(tag));
        Func<HealthCheckRegistration, bool>? predicate = tagged ? r => r.Tags.Contains(tag) : null;
        var report = new NotReadyReport(identity, logger);
        while (!stopping.IsCancellationRequested)
        {
            string verdict;
            try
            {
                var result = await health.CheckHealthAsync(predicate, stopping).ConfigureAwait(false);
                if (result.Status == HealthStatus.Healthy)
                {
                    _healthy.TrySetResult();
                    return;
                }
                verdict = string.Join("; ", result.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
                    .Select(e => $"{e.Key} {e.Value.Status}{(e.Value.Description is { } d ? ": " + d : "")}"));
            }
            catch (OperationCanceledException)
            {
                return;
            }
#pragma warning disable CA1031 // the app's check failing in any way means not ready, never a crash
            catch (Exception e)
#pragma warning restore CA1031
            {
                verdict = $"the health checks threw {e.GetType().Name}: {e.Message}";
            }
            await report.SayAsync(verdict).ConfigureAwait(false);
            await Task.Delay(Retry, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
