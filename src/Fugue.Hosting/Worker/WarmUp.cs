using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FugueHosting.Worker;

/// <summary>
/// A replacement worker's warm-up: before it accepts from the shared sockets, it sends itself
/// <c>Fugue:WarmUpRequests</c> GETs of <c>Fugue:WarmUpPath</c> through Kestrel, over a
/// private loopback socket that its first plain-HTTP endpoint accepts from meanwhile (same pipeline, same endpoint
/// settings). Until <see cref="Done"/>, no listener accepts from the shared sockets; the old workers serve.
/// A round with an answer that is not 2xx (or no answer) counts against readiness: the worker says why and sends
/// another round half a second later, until one is clean or the master's WorkerBootTimeout gives up on it.
/// </summary>
internal sealed class WarmUp(WorkerIdentity identity, string path, int requests, ILogger<WarmUp> logger)
{
    private const int Concurrency = 8;
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(500);

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IConnectionListener? _private;

    /// <summary>Completes when the warm-up is over (or skipped, or the worker stops): the shared sockets may be accepted from.</summary>
    public Task Done => _done.Task;

    /// <summary>The inherited descriptor whose endpoint serves the warm-up: the first plain-HTTP one, if any.</summary>
    public int? Fd { get; } = identity.Listeners.Where(l => !l.Https).Select(l => (int?)l.Fd).FirstOrDefault();

    /// <summary>Binds the private loopback socket that the endpoint of <see cref="Fd"/> accepts from until <see cref="Done"/>.</summary>
    public async ValueTask<IConnectionListener> BindAsync(IConnectionListenerFactory transport, CancellationToken cancellationToken)
    {
        _private = await transport.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), cancellationToken).ConfigureAwait(false);
        return _private;
    }

    /// <summary>Sends rounds of requests until one is all 2xx (or the worker stops), then lets the shared sockets be accepted from. Never throws.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            if (_private?.EndPoint is not IPEndPoint endpoint)
            {
                WorkerLog.WarmUpSkipped(logger, identity.WorkerId, Environment.ProcessId, "it has no plain-HTTP endpoint");
                return;
            }
            var stopwatch = Stopwatch.StartNew();
            var uri = new Uri($"http://127.0.0.1:{endpoint.Port}{path}");
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Concurrency });
            var notReady = new NotReadyReport(identity, logger);
            for (int round = 1; !stopping.IsCancellationRequested; round++)
            {
                var failures = await RoundAsync(client, uri, stopping).ConfigureAwait(false);
                if (failures.Count == 0)
                {
                    if (!stopping.IsCancellationRequested)
                    {
                        WorkerLog.WarmedUp(logger, identity.WorkerId, Environment.ProcessId, requests, path, stopwatch.Elapsed.TotalSeconds, round);
                    }
                    return;
                }
                if (stopping.IsCancellationRequested)
                {
                    return;
                }
                string answers = string.Join(", ", failures.GroupBy(f => f).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()} {g.Key}"));
                await notReady.SayAsync($"warm-up GET {path}: {failures.Count} of {requests} not 2xx ({answers})").ConfigureAwait(false);
                await Task.Delay(Retry, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            if (_private is not null)
            {
                await _private.UnbindAsync(CancellationToken.None).ConfigureAwait(false);
            }
            _done.TrySetResult();
        }
    }

    /// <summary>One round of requests, 8 at a time; what each failed one got ("503", "HttpRequestException").</summary>
    private async Task<List<string>> RoundAsync(HttpClient client, Uri uri, CancellationToken stopping)
    {
        int left = requests;
        var failures = new List<string>();
        async Task SendAsync()
        {
            while (Interlocked.Decrement(ref left) >= 0 && !stopping.IsCancellationRequested)
            {
                string? failure;
                try
                {
                    using var response = await client.GetAsync(uri, stopping).ConfigureAwait(false);
                    await response.Content.ReadAsByteArrayAsync(stopping).ConfigureAwait(false);
                    failure = response.IsSuccessStatusCode ? null : ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                {
                    failure = e.GetType().Name;
                }
                if (failure is not null)
                {
                    lock (failures)
                    {
                        failures.Add(failure);
                    }
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => SendAsync())).ConfigureAwait(false);
        return failures;
    }
}
