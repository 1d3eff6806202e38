using Microsoft.Extensions.Hosting;

namespace OpenTelemetry.Extensions.Hosting.Implementation;

/// <summary>Stands for OpenTelemetry's hosted service (same namespace and name), which the master must keep.</summary>
internal sealed class TelemetryHostedService : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
