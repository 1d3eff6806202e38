using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Worker;

/// <summary>
/// Puts the inherited sockets into Kestrel. Through the configuration loader, so that the endpoints get what the app
/// configured for Kestrel (the default certificate, endpoint defaults) when Kestrel loads it at start.
/// Kestrel does not own these sockets: stopping this worker leaves them open for the others.
/// </summary>
internal sealed class InheritedListenersSetup(WorkerIdentity identity, ILogger<InheritedListenersSetup> logger)
    : IPostConfigureOptions<KestrelServerOptions>
{
    public void PostConfigure(string? name, KestrelServerOptions options)
    {
        var loader = options.ConfigurationLoader ?? options.Configure();
        foreach (var listener in identity.Listeners)
        {
            WorkerLog.Serving(logger, identity.WorkerId, Environment.ProcessId, listener.Fd, listener.Https ? "https" : "http");
            loader.HandleEndpoint((ulong)listener.Fd, listenOptions =>
            {
                if (listener.Https)
                {
                    listenOptions.UseHttps();
                }
            });
        }
    }
}
