using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Kestrel in a worker, minus the app's URL settings (ASPNETCORE_URLS, --urls): the master bound those, and the
/// worker serves on the inherited sockets only. Without this Kestrel would warn, at every worker start, that it is
/// overriding them.
/// </summary>
internal sealed class InheritedSocketServer(IServer kestrel) : IServer
{
    public IFeatureCollection Features => kestrel.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        Features.Get<IServerAddressesFeature>()?.Addresses.Clear();
        return kestrel.StartAsync(application, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => kestrel.StopAsync(cancellationToken);

    public void Dispose() => kestrel.Dispose();
}
