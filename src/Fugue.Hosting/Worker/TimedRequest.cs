using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Fugue.Hosting.Worker;

/// <summary>
/// One request under Fugue:RequestTimeout: when it started, the token its handlers see as <c>RequestAborted</c>, and
/// whether its deadline was turned off. As ASP.NET Core's <see cref="IHttpRequestTimeoutFeature"/> it lets a handler
/// turn it off (SignalR's long-lived transports do), as with the framework's own request timeouts.
/// </summary>
internal sealed class TimedRequest : IHttpRequestTimeoutFeature, IDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly TimeProvider _time;
    private readonly Lock _wait = new();
    private volatile bool _disabled;
    private int _timedOut;
    private int _waits;
    private long _waitingSince;
    private long _waited;

    public TimedRequest(HttpContext context, TimeProvider time, CancellationToken aborted)
    {
        Context = context;
        _time = time;
        Started = time.GetTimestamp();
        Path = context.Request.Path.Value ?? "/";
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
    }

    public HttpContext Context { get; }

    public long Started { get; }

    public string Path { get; }

    /// <summary>The request's <c>RequestAborted</c> while it runs: the client's abort, or its deadline.</summary>
    public CancellationToken RequestTimeoutToken => _cancel.Token;

    public bool Disabled => _disabled;

    /// <summary>Whether the deadline cancelled the request (not the client).</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    public void DisableTimeout() => _disabled = true;

    /// <summary>
    /// A read of the body or a write to the client: the time until the returned wait is disposed is the client's.
    /// Waits may overlap (a duplex stream reads and writes at once); the time counts once.
    /// </summary>
    public ClientWait WaitOnClient()
    {
        lock (_wait)
        {
            if (_waits++ == 0)
            {
                _waitingSince = _time.GetTimestamp();
            }
        }
        return new ClientWait(this);
    }

    private void EndClientWait()
    {
        lock (_wait)
        {
            if (--_waits == 0)
            {
                _waited += _time.GetTimestamp() - _waitingSince;
            }
        }
    }

    /// <summary>One wait on the client, ended by its disposal.</summary>
    public readonly struct ClientWait(TimedRequest request) : IDisposable
    {
        public void Dispose() => request.EndClientWait();
    }

    /// <summary>How long the app has had the request, in timestamp units: its age less the time spent waiting on the client.</summary>
    public long AppTime(long now)
    {
        lock (_wait)
        {
            return now - Started - _waited - (_waits > 0 ? now - _waitingSince : 0);
        }
    }

    /// <summary>
    /// Cancels the request's token, once; its callbacks run on the thread pool, never on the caller's thread (the
    /// deadline's watcher, which must go on when the app's callbacks block).
    /// </summary>
    /// <returns>Whether this call cancelled it.</returns>
    public bool Cancel()
    {
        if (Interlocked.Exchange(ref _timedOut, 1) != 0)
        {
            return false;
        }
        try
        {
            _ = _cancel.CancelAsync();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false; // the request ended while the watcher looked at it
        }
    }

    public void Dispose() => _cancel.Dispose();
}
