using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Fugue:RequestTimeout in the worker: notes when each request starts, and a thread of its own (not the thread pool's,
/// which a hung app may have starved) looks at the oldest a few times per timeout. The first request found running
/// longer than the timeout completes <see cref="Overran"/>, once: the master takes this worker out of service and
/// captures its stacks while that request still runs.
/// </summary>
internal sealed class RequestDeadline : IStartupFilter
{
    private readonly ConcurrentDictionary<long, (long Started, string Path)> _running = new();
    // Continuations may run on the completing thread: the watching thread, which a starved thread pool does not hold up.
    private readonly TaskCompletionSource<(string Path, TimeSpan Ran)> _overran = new();
    private readonly TimeProvider _time;
    private long _next;

    public RequestDeadline(TimeSpan timeout, TimeProvider? time = null)
    {
        Timeout = timeout;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan Timeout { get; }

    /// <summary>Completes with the first request found past <see cref="Timeout"/>: its path and how long it had run.</summary>
    public Task<(string Path, TimeSpan Ran)> Overran => _overran.Task;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            long id = Interlocked.Increment(ref _next);
            _running[id] = (_time.GetTimestamp(), context.Request.Path.Value ?? "/");
            try
            {
                await nextMiddleware(context).ConfigureAwait(false);
            }
            finally
            {
                _running.TryRemove(id, out _);
            }
        });
        next(app);
    };

    /// <summary>Starts the watching thread; it ends with the process, or once it has reported.</summary>
    public void Start() => new Thread(Watch) { IsBackground = true, Name = "Fugue request deadline" }.Start();

    private void Watch()
    {
        var period = Timeout / 4 < TimeSpan.FromSeconds(1) ? Timeout / 4 : TimeSpan.FromSeconds(1);
        while (!Check())
        {
            Thread.Sleep(period);
        }
    }

    /// <summary>Whether a request has run past the timeout (reported once); false while none has.</summary>
    internal bool Check()
    {
        foreach (var (started, path) in _running.Values)
        {
            var ran = _time.GetElapsedTime(started);
            if (ran > Timeout)
            {
                _overran.TrySetResult((path, ran));
                return true;
            }
        }
        return false;
    }
}
