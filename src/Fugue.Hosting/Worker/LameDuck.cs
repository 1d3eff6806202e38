using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Worker;

/// <summary>
/// A stopping worker stops accepting (the other workers, or its replacement, take new connections; when the whole
/// cluster stops it accepts on, as the last one) and answers every HTTP/1.x request with <c>Connection: close</c> for
/// <see cref="FugueOptions.LameDuckPeriod"/>, so that keep-alive clients leave on their own; only then does Kestrel's
/// graceful stop close the idle connections. Closing them at once races with clients sending on them (a read error
/// for the client). HTTP/2 clients get Kestrel's GOAWAY. Then the app's open WebSockets get a close frame
/// (<see cref="UpgradedConnections"/>).
/// </summary>
internal sealed class LameDuck(IOptions<FugueOptions> options, UpgradedConnections upgrades) : IHostedLifecycleService, IStartupFilter, IDisposable
{
    private readonly CancellationTokenSource _draining = new();
    private volatile bool _active;
    private volatile bool _skip;
    private volatile bool _last;

    /// <summary>Cancelled when the worker starts to stop: it accepts no more connections from then on.</summary>
    public CancellationToken Draining => _draining.Token;

    /// <summary>No lame-duck period: the master is gone, the worker stops as fast as its requests allow.</summary>
    public void Skip() => _skip = true;

    /// <summary>The whole cluster stops: accept through the lame-duck period, since no other worker will.</summary>
    public void Last() => _last = true;

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            if (_active && !HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
            {
                context.Response.Headers.Connection = "close";
            }
            if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade && UpgradedConnections.IsWebSocket(context.Request))
            {
                context.Features.Set(upgrades.Track(upgrade, context));
            }
            return nextMiddleware(context);
        });
        next(app);
    };

    /// <summary>Runs before any hosted service (Kestrel's among them) is stopped.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _active = true;
        if (!_last)
        {
            await _draining.CancelAsync().ConfigureAwait(false);
        }
        if (!_skip)
        {
            try
            {
                await Task.Delay(options.Value.LameDuckPeriod, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        await _draining.CancelAsync().ConfigureAwait(false);
        await upgrades.CloseAllAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _draining.Dispose();
}
