using System.Collections.Concurrent;
using System.Diagnostics;

namespace Fugue.Hosting.Tests;

/// <summary>
/// A bounded concurrent load: clients with and without keep-alive, each request checked (200 and a worker's answer).
/// Runs until stopped, or at most its duration or its count of requests (by default <see cref="MaxDuration"/> and
/// <see cref="MaxRequests"/>).
/// </summary>
internal sealed class Load : IAsyncDisposable
{
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(120);
    public const int MaxRequests = 200_000;

    /// <summary>
    /// What each client waits between its requests. The tests prove that no request fails across a transition, which a
    /// few thousand requests a second show as well as a saturating load; saturation would only take the CPU from the
    /// tests running beside them (throughput is build/bench.sh's).
    /// </summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(2);

    private readonly CancellationTokenSource _stop;
    private readonly int _maxRequests;
    private readonly List<Task> _clients = [];
    private readonly ConcurrentQueue<(long At, string Answer)> _answers = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private int _count;

    /// <summary>Clients that each send requests in a loop; a good answer is a 200 whose body starts with <paramref name="answer"/>.</summary>
    /// <param name="port">The cluster's port on 127.0.0.1.</param>
    /// <param name="keepAliveClients">Clients that keep their connection.</param>
    /// <param name="closingClients">Clients that open a connection per request.</param>
    /// <param name="path">What they request.</param>
    /// <param name="answer">TestApp's "worker 1 pid 123"; the samples' "Hello from worker".</param>
    /// <param name="maxDuration">Its bound in time, for a test whose own deadlines add up to more than <see cref="MaxDuration"/>.</param>
    /// <param name="maxRequests">Its bound in requests, all clients together.</param>
    public Load(int port, int keepAliveClients, int closingClients, string path = "/", string answer = "worker ",
        TimeSpan? maxDuration = null, int maxRequests = MaxRequests)
    {
        _stop = new(maxDuration ?? MaxDuration);
        _maxRequests = maxRequests;
        for (int i = 0; i < keepAliveClients + closingClients; i++)
        {
            bool keepAlive = i < keepAliveClients;
            _clients.Add(Task.Run(() => RunClientAsync(port, keepAlive, path, answer)));
        }
    }

    public int Count => Volatile.Read(ref _count);

    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>The answers received after <paramref name="timestamp"/> (a Stopwatch timestamp).</summary>
    public List<string> AnswersSince(long timestamp) => _answers.Where(a => a.At > timestamp).Select(a => a.Answer).ToList();

    private async Task RunClientAsync(int port, bool keepAlive, string path, string answer)
    {
        using var client = new RawHttpClient(port, keepAlive);
        while (!_stop.IsCancellationRequested && Interlocked.Increment(ref _count) <= _maxRequests)
        {
            try
            {
                var (status, body) = await client.GetAsync(path, _stop.Token);
                if (status != 200 || !body.StartsWith(answer, StringComparison.Ordinal))
                {
                    _failures.Enqueue($"{status} {body}");
                }
                else
                {
                    _answers.Enqueue((Stopwatch.GetTimestamp(), body));
                }
                if (Pause > TimeSpan.Zero)
                {
                    await Task.Delay(Pause, _stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // every failure is a finding, recorded for the assertion
            catch (Exception e)
#pragma warning restore CA1031
            {
                _failures.Enqueue($"{(keepAlive ? "keep-alive" : "close")}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Waits until <paramref name="more"/> further requests have succeeded; fails at once if the load has ended at its bound.</summary>
    public void WaitForMore(MasterProcess master, int more)
    {
        int target = _answers.Count + more;
        master.WaitFor(() => _answers.Count >= target ? (bool?)true
                : _clients.TrueForAll(c => c.IsCompleted) ? throw new InvalidOperationException($"the load ended at its bound (its duration, or {_maxRequests} requests) before {more} more answers")
                : null,
            $"{more} more answers under load ({_answers.Count} answers, {_failures.Count} failures: {string.Join(" | ", _failures.Take(5))})");
    }

    /// <summary>Stops the clients and waits for them; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_clients);
            _stop.Dispose();
        }
    }

    private int _disposed;
}
