using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Fugue:RequestTimeout in the worker: notes when each request that can time out starts (<see cref="RequestLimit"/>),
/// and a thread of its own (not the thread pool's, which a hung app may have starved) looks at them a few times per
/// timeout, counting only the time the app has it (not the time it waits on a slow client's body or reading). At a
/// request's deadline its <c>RequestAborted</c> is cancelled, as ASP.NET Core's request timeouts do (504
/// if nothing was written); the first request still running a grace period later completes <see cref="Overran"/>,
/// once: the master takes this worker out of service and captures its stacks while that request still runs.
/// </summary>
internal sealed class RequestDeadline : IStartupFilter
{
    private readonly ConcurrentDictionary<TimedRequest, byte> _running = new();
    // Continuations may run on the completing thread: the watching thread, which a starved thread pool does not hold up.
    private readonly TaskCompletionSource<(string Path, TimeSpan Ran)> _overran = new();
    private readonly IDictionary<string, RequestTimeoutPolicy> _policies;
    private readonly Action<string, TimeSpan>? _cancelled;
    private readonly TimeProvider _time;

    /// <param name="timeout">Fugue:RequestTimeout, for requests whose endpoint sets none.</param>
    /// <param name="grace">How long a cancelled request may go on before its worker is hung.</param>
    /// <param name="policies">The app's named request timeout policies (<c>AddRequestTimeouts</c>).</param>
    /// <param name="cancelled">Told of each request cancelled at its deadline: its path and its limit.</param>
    /// <param name="time">The clock; for testing.</param>
    public RequestDeadline(TimeSpan timeout, TimeSpan grace, IDictionary<string, RequestTimeoutPolicy>? policies = null, Action<string, TimeSpan>? cancelled = null,
        TimeProvider? time = null)
    {
        Timeout = timeout;
        Grace = grace;
        _policies = policies ?? new Dictionary<string, RequestTimeoutPolicy>();
        _cancelled = cancelled;
        _time = time ?? TimeProvider.System;
    }

    public TimeSpan Timeout { get; }

    public TimeSpan Grace { get; }

    /// <summary>Completes with the first request found past its deadline and the grace: its path and how long it had run.</summary>
    public Task<(string Path, TimeSpan Ran)> Overran => _overran.Task;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(TimeAsync);
        next(app);
    };

    private async Task TimeAsync(HttpContext context, RequestDelegate next)
    {
        if (RequestLimit.Upgrades(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var aborted = context.RequestAborted;
        var body = context.Request.Body;
        var response = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var request = new TimedRequest(context, _time, aborted);
        bool feature = context.Features.Get<IHttpRequestTimeoutFeature>() is null;
        if (feature)
        {
            context.Features.Set<IHttpRequestTimeoutFeature>(request);
        }
        context.RequestAborted = request.RequestTimeoutToken;
        context.Request.Body = new ClientTimedStream(body, request);
        context.Features.Set<IHttpResponseBodyFeature>(new ClientTimedResponse(response, request));
        _running[request] = 0;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (request.TimedOut && !aborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            _running.TryRemove(request, out _);
            context.RequestAborted = aborted;
            context.Request.Body = body;
            context.Features.Set(response);
            if (feature)
            {
                context.Features.Set<IHttpRequestTimeoutFeature>(null);
            }
        }
    }

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

    /// <summary>
    /// Cancels the requests past their deadline; whether one has run past its deadline and the grace too (reported
    /// once); false while none has.
    /// </summary>
    internal bool Check()
    {
        long now = _time.GetTimestamp();
        foreach (var (request, _) in _running) // lock-free: the requests never wait for the watcher
        {
            if (request.Disabled || Limit(request) is not { } limit)
            {
                continue;
            }
            var ran = _time.GetElapsedTime(0, request.AppTime(now)); // the time spent waiting on the client is the client's
            if (ran <= limit)
            {
                continue;
            }
            if (request.Cancel())
            {
                _cancelled?.Invoke(request.Path, limit);
            }
            if (ran > limit + Grace)
            {
                _overran.TrySetResult((request.Path, ran));
                return true;
            }
        }
        return false;
    }

    private TimeSpan? Limit(TimedRequest request)
    {
        try
        {
            return RequestLimit.Of(request.Context, Timeout, _policies);
        }
        catch (ObjectDisposedException)
        {
            return null; // it ended while the watcher looked at it; its context went back to Kestrel's pool
        }
    }
}
