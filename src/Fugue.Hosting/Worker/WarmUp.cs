using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Text;
using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Worker;

/// <summary>
/// A replacement worker's warm-up: before it accepts from the shared sockets, it sends itself
/// <c>Fugue:WarmUpRequests</c> GETs of <c>Fugue:WarmUpPath</c> through Kestrel, over a
/// private loopback socket that its first plain-HTTP endpoint accepts from meanwhile (same pipeline, same endpoint
/// settings). Until <see cref="Done"/>, no listener accepts from the shared sockets; the old workers serve.
/// A round with an answer that is not 2xx (or no answer) counts against readiness: the worker says why and sends
/// another round half a second later, until one is clean or the master's WorkerBootTimeout gives up on it.
/// A spare, or a replacement starting idle (<paramref name="untilJitQuiet"/>: the master decides which, by its start), sends
/// rounds until one in which the JIT compiled nothing: it serves with its code at its final tier, not tier-0 and
/// instrumented code that its first clients would pay the re-compiling of. Between rounds it lets the runtime's
/// background compiling finish (the count of compiled methods stays the same for <see cref="JitPoll"/>): each round
/// then takes its methods a tier up, where rounds sent back to back would keep finding methods the last one queued.
/// Each of its rounds also runs <paramref name="rehearsal"/> (the code of its promotion that no request reaches), which
/// the warm-up disposes of when it ends.
/// </summary>
internal sealed class WarmUp(WorkerIdentity identity, string path, int requests, bool untilJitQuiet, ILogger<WarmUp> logger,
    BalanceRehearsal? rehearsal = null, RequestMeter? meter = null)
{
    private const int Concurrency = 8;

    /// <summary>
    /// The longest a warm-up goes on for a quiet JIT, as a share of WorkerBootTimeout: an app whose requests compile code
    /// each time (a compiled Regex or expression built per request) never gets quiet, and must still be ready in time.
    /// </summary>
    private const int JitQuietShareOfBootTimeout = 4;

    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan JitPoll = TimeSpan.FromMilliseconds(20);

    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The local ports of the warm-up's own client sockets: the only connections its listener serves.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, bool> _ownPorts = new();
    private IConnectionListener? _private;
    private int _refused;

    /// <summary>Completes when the warm-up is over (or skipped, or the worker stops): the shared sockets may be accepted from.</summary>
    public Task Done => _done.Task;

    /// <summary>The inherited descriptor whose endpoint serves the warm-up: the first plain-HTTP one, if any.</summary>
    public int? Fd { get; } = identity.Listeners.Where(l => !l.Https).Select(l => (int?)l.Fd).FirstOrDefault();

    /// <summary>Binds the private loopback socket that the endpoint of <see cref="Fd"/> accepts from until <see cref="Done"/>.</summary>
    public async ValueTask<IConnectionListener> BindAsync(IConnectionListenerFactory transport, CancellationToken cancellationToken)
    {
        _private = await transport.BindAsync(new IPEndPoint(IPAddress.Loopback, 0), cancellationToken).ConfigureAwait(false);
        return new OwnConnectionsListener(_private, IsOwn, Refused);
    }

    private bool IsOwn(EndPoint? remote) => remote is IPEndPoint { Address: var address } peer && IPAddress.IsLoopback(address) && _ownPorts.ContainsKey(peer.Port);

    private void Refused(EndPoint? remote)
    {
        if (Interlocked.Exchange(ref _refused, 1) == 0)
        {
            WorkerLog.WarmUpConnectionRefused(logger, identity.WorkerId, Environment.ProcessId, remote?.ToString() ?? "unknown");
        }
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
            var notReady = new NotReadyReport(identity, logger);
            bool jit = untilJitQuiet && RuntimeFeature.IsDynamicCodeCompiled;
            var jitLimit = (identity.Settings?.BootTimeout ?? new FugueOptions().WorkerBootTimeout) / JitQuietShareOfBootTimeout;
            long compiled = JitInfo.GetCompiledMethodCount();
            for (int round = 1; !stopping.IsCancellationRequested; round++)
            {
                long before = JitInfo.GetCompiledMethodCount();
                var failures = await RoundAsync(endpoint, stopping).ConfigureAwait(false);
                if (rehearsal is not null)
                {
                    await rehearsal.RunAsync().ConfigureAwait(false);
                }
                if (failures.Count == 0)
                {
                    long inRound = JitInfo.GetCompiledMethodCount() - before;
                    if (jit && inRound > 0 && stopwatch.Elapsed < jitLimit)
                    {
                        for (long seen = -1; JitInfo.GetCompiledMethodCount() is var now && now != seen && stopwatch.Elapsed < jitLimit && !stopping.IsCancellationRequested;)
                        {
                            seen = now;
                            await Task.Delay(JitPoll, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        }
                        continue;
                    }
                    if (!stopping.IsCancellationRequested)
                    {
                        WorkerLog.WarmedUp(logger, identity.WorkerId, Environment.ProcessId, requests * round, path, stopwatch.Elapsed.TotalSeconds, round);
                        if (jit && inRound > 0)
                        {
                            WorkerLog.JitNotQuiet(logger, identity.WorkerId, Environment.ProcessId, JitInfo.GetCompiledMethodCount() - compiled, inRound, stopwatch.Elapsed.TotalSeconds);
                        }
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
            rehearsal?.Dispose();
            if (_private is not null)
            {
                await _private.UnbindAsync(CancellationToken.None).ConfigureAwait(false);
            }
            meter?.Start(); // before any request from the shared sockets, which wait for Done
            _done.TrySetResult();
        }
    }

    /// <summary>One round of requests, 8 at a time; what each failed one got ("503", "SocketException").</summary>
    private async Task<List<string>> RoundAsync(IPEndPoint endpoint, CancellationToken stopping)
    {
        byte[] request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{endpoint.Port}\r\nConnection: close\r\n\r\n");
        int left = requests;
        var failures = new List<string>();
        async Task SendAsync()
        {
            var buffer = new byte[4096];
            while (Interlocked.Decrement(ref left) >= 0 && !stopping.IsCancellationRequested)
            {
                string? failure;
                try
                {
                    int status = await GetAsync(endpoint, request, buffer, stopping).ConfigureAwait(false);
                    failure = status switch
                    {
                        >= 200 and < 300 => null,
                        0 => "no HTTP answer",
                        _ => status.ToString(CultureInfo.InvariantCulture),
                    };
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
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

    /// <summary>
    /// One request on a connection of its own, read to the end; the status code (0: no HTTP/1.x status line). A plain
    /// socket, not HttpClient: its first request would cost the worker a large JIT bill for code it never serves with.
    /// </summary>
    private async Task<int> GetAsync(IPEndPoint endpoint, byte[] request, byte[] buffer, CancellationToken stopping)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        // Bound before it connects, so that the listener knows it as the warm-up's own when it accepts it.
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _ownPorts[port] = true;
        try
        {
            return await ExchangeAsync(socket, endpoint, request, buffer, stopping).ConfigureAwait(false);
        }
        finally
        {
            _ownPorts.TryRemove(port, out _);
        }
    }

    private static async Task<int> ExchangeAsync(Socket socket, IPEndPoint endpoint, byte[] request, byte[] buffer, CancellationToken stopping)
    {
        await socket.ConnectAsync(endpoint, stopping).ConfigureAwait(false);
        await socket.SendAsync(request, SocketFlags.None, stopping).ConfigureAwait(false);
        int length = 0, read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(Math.Min(length, 16)), SocketFlags.None, stopping).ConfigureAwait(false)) > 0)
        {
            length = Math.Min(length, 16) + read; // only "HTTP/1.1 200" matters: the rest of the answer is read over the same bytes
        }
        return length >= 12 && buffer.AsSpan(0, 9).SequenceEqual("HTTP/1.1 "u8) && int.TryParse(buffer.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int status)
            ? status
            : 0;
    }
}
