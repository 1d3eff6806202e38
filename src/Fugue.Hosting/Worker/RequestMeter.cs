using System.Diagnostics;
using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fugue.Hosting.Worker;

/// <summary>
/// The outermost middleware of a worker, from its first request or, with a warm-up, from the warm-up's end: counts each request in
/// the worker's cell of the <see cref="RequestTable"/> (in flight, its status class, how long it took), and, with
/// Fugue:MaxRequests, completes <see cref="LimitReached"/> at the limit the master drew for this worker (with its
/// jitter, so that workers started together do not reach it together). The master decides what follows.
/// </summary>
internal sealed class RequestMeter : IStartupFilter
{
    private readonly TaskCompletionSource _limitReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RequestTable? _table;
    private readonly int _cell;
    private long _served;
    private volatile bool _counting;

    /// <param name="limit">The requests after which this worker asks to be recycled; 0: never.</param>
    /// <param name="table">The shared table and this worker's cell in it; null: not counted there.</param>
    /// <param name="counting">Whether requests count from the start; false: from <see cref="Start"/>.</param>
    public RequestMeter(long limit, (RequestTable Table, int Cell)? table, bool counting = false)
    {
        Limit = limit;
        (_table, _cell) = table ?? default;
        _counting = counting;
    }

    /// <summary>The requests after which this worker asks to be recycled; 0: never.</summary>
    public long Limit { get; }

    /// <summary>The requests completed since it started to serve (counted with a <see cref="Limit"/> only).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Completes once <see cref="Served"/> reaches <see cref="Limit"/>.</summary>
    public Task LimitReached => _limitReached.Task;

    /// <summary>The warm-up is over: what starts now counts.</summary>
    public void Start() => _counting = true;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(Meter);
        next(app);
    };

    /// <summary>No async state machine for a request that completes at once, which most do.</summary>
    private RequestDelegate Meter(RequestDelegate next) => context =>
    {
        if (!_counting)
        {
            return next(context);
        }
        long started = Stopwatch.GetTimestamp();
        int stripe = _table?.Begin(_cell) ?? 0;
        Task task;
        try
        {
            task = next(context);
        }
        catch
        {
            Ended(stripe, StatusCodes.Status500InternalServerError, started);
            throw;
        }
        if (task.IsCompletedSuccessfully)
        {
            Ended(stripe, context.Response.StatusCode, started);
            return task;
        }
        return AwaitAsync(task, context, stripe, started);
    };

    private async Task AwaitAsync(Task task, HttpContext context, int stripe, long started)
    {
        int status = StatusCodes.Status500InternalServerError;
        try
        {
            await task.ConfigureAwait(false);
            status = context.Response.StatusCode;
        }
        finally
        {
            Ended(stripe, status, started);
        }
    }

    private void Ended(int stripe, int status, long started)
    {
        _table?.End(_cell, stripe, status, Stopwatch.GetElapsedTime(started));
        Completed();
    }

    internal void Completed()
    {
        if (_counting && Limit > 0 && Interlocked.Increment(ref _served) == Limit)
        {
            _limitReached.TrySetResult();
        }
    }
}
