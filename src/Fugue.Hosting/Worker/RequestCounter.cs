using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Fugue:MaxRequests in the worker: counts the requests it completes once it serves (a warm-up's do not count) and
/// completes <see cref="LimitReached"/> at its limit, Fugue:MaxRequests plus a random share of Fugue:MaxRequestsJitter
/// drawn here, so that workers started together do not reach it together. The master decides what follows.
/// </summary>
internal sealed class RequestCounter : IStartupFilter
{
    private readonly TaskCompletionSource _limitReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _served;
    private volatile bool _counting;

    public RequestCounter(IOptions<FugueOptions> options)
        : this(options.Value.MaxRequests + Random.Shared.Next(options.Value.MaxRequestsJitter + 1))
    {
    }

    internal RequestCounter(long limit) // For testing
    {
        Limit = limit;
    }

    /// <summary>The requests after which this worker asks to be recycled.</summary>
    public long Limit { get; }

    /// <summary>The requests completed since it started to serve.</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Completes once <see cref="Served"/> reaches <see cref="Limit"/>.</summary>
    public Task LimitReached => _limitReached.Task;

    /// <summary>The worker serves from here on: what completes now counts.</summary>
    public void Start() => _counting = true;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            try
            {
                await nextMiddleware(context).ConfigureAwait(false);
            }
            finally
            {
                Completed();
            }
        });
        next(app);
    };

    internal void Completed()
    {
        if (_counting && Interlocked.Increment(ref _served) == Limit)
        {
            _limitReached.TrySetResult();
        }
    }
}
