using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FugueHosting.Worker;

/// <summary>
/// A replacement worker's warm-up: before it accepts from the shared sockets, it sends itself
/// <c>Fugue:WarmUpRequests</c> GETs of <c>Fugue:WarmUpPath</c> through Kestrel, over a
/// private loopback socket that its first plain-HTTP endpoint accepts from meanwhile (same pipeline, same endpoint
/// settings). Until <see cref="Done"/>, no listener accepts from the shared sockets; the old workers serve.
/// Best effort: failed requests are counted and logged, and the worker goes on to serve.
/// </summary>
internal sealed class WarmUp(WorkerIdentity identity, string path, int requests, ILogger<WarmUp> logger)
{
    private const int Concurrency = 8;

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

    /// <summary>Sends the requests, then lets the shared sockets be accepted from. Never throws.</summary>
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
            int left = requests, failed = 0;
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Concurrency });
            async Task SendAsync()
            {
                while (Interlocked.Decrement(ref left) >= 0 && !stopping.IsCancellationRequested)
                {
                    try
                    {
                        using var response = await client.GetAsync(uri, stopping).ConfigureAwait(false);
                        await response.Content.ReadAsByteArrayAsync(stopping).ConfigureAwait(false);
                        if (!response.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref failed);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }
            await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => SendAsync())).ConfigureAwait(false);
            WorkerLog.WarmedUp(logger, identity.WorkerId, Environment.ProcessId, requests, path, stopwatch.Elapsed.TotalSeconds, failed);
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
}
