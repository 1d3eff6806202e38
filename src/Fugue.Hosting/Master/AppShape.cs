using Microsoft.Extensions.DependencyInjection;

namespace Fugue.Hosting.Master;

/// <summary>What the master can tell of the app from its services, to warn about what does not survive N workers.</summary>
/// <param name="UsesSignalR">The app registered SignalR (hubs, or Blazor Server, which runs on it).</param>
internal sealed record AppShape(bool UsesSignalR)
{
    public static AppShape Of(IServiceCollection services) =>
        new(services.Any(d => d.ServiceType.Namespace?.StartsWith("Microsoft.AspNetCore.SignalR", StringComparison.Ordinal) == true));
}
