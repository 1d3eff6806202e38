using Fugue.Hosting.Configuration;
using Fugue.Hosting.KeyRing;
using Fugue.Hosting.Master;
using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Listeners;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Master.Supervision;
using Fugue.Hosting.Master.Telemetry;
using Fugue.Hosting.Protocol;
using Fugue.Hosting.Worker;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Activation;

/// <summary>
/// Shapes the container once the app has registered everything, which is the first moment the role is certain
/// (WebApplicationFactory swaps the server in only then). In the master, nothing of the app runs: its hosted
/// services (Kestrel's among them) are removed and the supervisor takes their place.
/// </summary>
internal sealed class FugueServiceProviderFactory(StartOptions start, IHostEnvironment environment) : IServiceProviderFactory<IServiceCollection>
{
    private readonly FugueOptions _options = start.Options;

    public IServiceCollection CreateBuilder(IServiceCollection services)
    {
        var (role, reason, unsupported) = FugueActivation.Decide(services, _options, environment, start.WorkersChosen);
        AddOptions(services, role);
        switch (role)
        {
            case FugueRole.Master:
                AddMaster(services);
                break;
            case FugueRole.Worker:
                AddWorker(services, WorkerActivation.Current!);
                break;
            default:
                services.AddSingleton<IFugue>(sp => new StandaloneContext(sp.GetRequiredService<IHostApplicationLifetime>()));
                services.AddHostedService(sp => new SingleProcessNotice(reason!, unsupported, sp.GetRequiredService<ILogger<SingleProcessNotice>>()));
                break;
        }
        return services;
    }

    public IServiceProvider CreateServiceProvider(IServiceCollection containerBuilder)
    {
        bool development = environment.IsDevelopment();
        var provider = containerBuilder.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = development, ValidateOnBuild = development });
        FugueCluster.Current = provider.GetRequiredService<IFugue>();
        return provider;
    }

    private void AddMaster(IServiceCollection services)
    {
        FatalErrorExit.Install();
        // Before anything is logged: the console keeps duplicates of the descriptors it first writes to.
        if (LogFiles.Open(_options.LogFile, _options.MasterLogFile) is { } logFiles)
        {
            services.AddSingleton(logFiles);
        }
        // Nothing of the app runs in the master, but the telemetry that exports its metrics (OpenTelemetry's) does.
        foreach (var hosted in services.Where(d => d.ServiceType == typeof(IHostedService) && !IsTelemetry(d)).ToList())
        {
            services.Remove(hosted);
        }
        services.RemoveAll<IServer>();
        services.RemoveAll<IHostLifetime>();
        services.AddSingleton<IServer, MasterServer>();
        services.AddSingleton<MasterInbox>();
        services.AddSingleton<IHostLifetime, MasterLifetime>();
        services.AddSingleton<ListenerSet>();
        services.AddSingleton<ControlSocket>();
        services.AddSingleton<SystemdNotifier>();
        services.AddSingleton(sp => new MasterMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(new KeyRingPlan(
            SharedKeyRing.AppChoosesPersistence(services) ? null : _options.DataProtectionKeysPath ?? SharedKeyRing.DefaultPath(_options, environment.ApplicationName),
            environment.ApplicationName));
        services.AddSingleton(AppShape.Of(services));
        services.AddSingleton<ConfigurationReload>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<MasterServices>();
        services.AddSingleton<MasterHost>();
        services.AddHostedService(sp => sp.GetRequiredService<MasterHost>());
        services.AddSingleton<IFugue, MasterContext>();
        // The host waits for the supervisor, which bounds each child's drain by the WorkerKillTimeout it was launched
        // with (a HUP may have changed it since this early read).
        services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// <c>IOptions&lt;FugueOptions&gt;</c> is the start read, validated as the host starts (a worker's were validated
    /// by its master): no options monitor binds again, and the master reads a new configuration only on a HUP.
    /// </summary>
    private void AddOptions(IServiceCollection services, FugueRole role)
    {
        services.AddSingleton(start);
        services.AddOptions<FugueOptions>().ValidateOnStart();
        services.AddSingleton<IOptionsFactory<FugueOptions>, StartOptionsFactory>();
        if (role != FugueRole.Worker)
        {
            services.AddSingleton<IValidateOptions<FugueOptions>, FugueOptionsValidator>();
        }
    }

    /// <summary>A hosted service of OpenTelemetry (its MeterProvider and exporters start with it).</summary>
    internal static bool IsTelemetry(ServiceDescriptor descriptor) =>
        (descriptor.IsKeyedService ? descriptor.KeyedImplementationType : descriptor.ImplementationType)?.Namespace?.StartsWith("OpenTelemetry", StringComparison.Ordinal) == true;

    private void AddWorker(IServiceCollection services, WorkerIdentity identity)
    {
        if (services.LastOrDefault(d => d.ServiceType == typeof(IServer)) is { ImplementationType: { } kestrel })
        {
            services.RemoveAll<IServer>();
            services.AddSingleton<IServer>(sp => new InheritedSocketServer((IServer)ActivatorUtilities.CreateInstance(sp, kestrel)));
        }
        if (identity.Settings?.KeyRingPath is { } keyRing && !SharedKeyRing.AppChoosesPersistence(services))
        {
            SharedKeyRing.Use(services, keyRing, environment.ApplicationName);
        }
        services.AddSingleton(identity);
        if (services.Any(d => d.ServiceType == typeof(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService)))
        {
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<HealthGate>(sp, _options.ReadinessTag));
        }
        services.AddSingleton<WorkerChannel>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerChannel>());
        services.AddSingleton<IPostConfigureOptions<KestrelServerOptions>, InheritedListenersSetup>();
        services.AddSingleton<UpgradedConnections>();
        services.AddSingleton<LameDuck>();
        if (identity.Connections is { } connections)
        {
            services.AddSingleton(sp => new ConnectionBalance(ConnectionTable.Open(connections.Fd), connections.Cell,
                sp.GetService<TimeProvider>() ?? TimeProvider.System, sp.GetRequiredService<LameDuck>().Draining));
        }
        if (identity.WarmUp && _options.WarmUpPath is { } warmUpPath)
        {
            services.AddSingleton(sp => new WarmUp(identity, warmUpPath, _options.WarmUpRequests, identity.TierUp, sp.GetRequiredService<ILogger<WarmUp>>(),
                identity.Spare && identity.Connections is not null ? BalanceRehearsal.Create() : null, sp.GetService<RequestMeter>()));
        }
        foreach (var transport in services.Where(d => d.ServiceType == typeof(IConnectionListenerFactory) && d.ImplementationType is not null).ToList())
        {
            services.Remove(transport);
            services.AddSingleton<IConnectionListenerFactory>(sp => new WorkerListenerFactory(
                (IConnectionListenerFactory)ActivatorUtilities.CreateInstance(sp, transport.ImplementationType!), sp.GetRequiredService<LameDuck>(),
                sp.GetService<ConnectionBalance>(), sp.GetService<WarmUp>(), sp.GetService<HealthGate>(), sp.GetService<WorkerListenerFactory.Affinity>(),
                identity.Promoted));
        }
        // Whatever the worker count: TTIN may add workers, and a roll runs old and new ones side by side.
        if (_options.HubAffinity)
        {
            services.AddSingleton(sp => new ConnectionHandoff(ControlSocketPath.PrivateDirectory(_options), new ClusterLineage(identity), sp.GetRequiredService<ILogger<ConnectionHandoff>>()));
            services.AddSingleton<HubAffinity>();
            services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<HubAffinity>());
            services.AddSingleton(sp => new WorkerListenerFactory.Affinity(sp.GetRequiredService<HubAffinity>(), sp.GetRequiredService<ConnectionHandoff>(), identity,
                sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IOptions<SocketTransportOptions>>().Value));
        }
        services.AddHostedService(sp => sp.GetRequiredService<LameDuck>());
        services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<LameDuck>());
        if (_options.RequestTimeout > TimeSpan.Zero)
        {
            services.AddSingleton(sp =>
            {
                var logger = sp.GetRequiredService<ILogger<RequestDeadline>>();
                return new RequestDeadline(_options.RequestTimeout, _options.RequestTimeoutGrace,
                    sp.GetService<IOptions<Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutOptions>>()?.Value.Policies,
                    (path, limit) => WorkerLog.RequestCancelled(logger, identity.WorkerId, Environment.ProcessId, path, limit.TotalSeconds));
            });
            services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<RequestDeadline>());
        }
        if (identity.MaxRequests > 0 || identity.Requests is not null)
        {
            // Without a warm-up every request counts; with one, those after it (WarmUp starts the count).
            services.AddSingleton(new RequestMeter(identity.MaxRequests,
                identity.Requests is { } requests ? (RequestTable.Open(requests.Fd), requests.Cell) : null,
                counting: !(identity.WarmUp && _options.WarmUpPath is not null)));
            services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<RequestMeter>());
        }
        services.AddSingleton<IFugue>(sp => new WorkerContext(identity, sp.GetRequiredService<WorkerChannel>()));
        // Kestrel drains in-flight requests for up to the host's shutdown timeout.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = _options.WorkerKillTimeout);
    }
}
