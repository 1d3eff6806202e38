using System.Diagnostics;
using Fugue.Hosting.Configuration;
using Fugue.Hosting.Native;
using Fugue.Hosting.Worker;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Fugue.Hosting.Activation;

/// <summary>Decides what this process is, from the environment, the options and the services the app ended up with.</summary>
internal static class FugueActivation
{
    /// <summary>
    /// The options this process starts with. A worker lives by the settings the master stamped on it, whatever its
    /// configuration files say now.
    /// </summary>
    public static StartOptions ReadOptions(OptionsSource source) =>
        WorkerActivation.Current is { Settings: { } settings } ? StartOptions.Stamped(source, settings.ToOptions()) : StartOptions.Read(source);

    /// <summary>The role, or why this is a single process (<c>Unsupported</c>: the platform, not the app, decided it).</summary>
    /// <param name="services">The services the app ended up with.</param>
    /// <param name="options">The options, read early.</param>
    /// <param name="environment">The app's environment.</param>
    /// <param name="workersChosen">Whether the app set Fugue:Workers (see <see cref="OptionsSource.WorkersChosen"/>).</param>
    public static (FugueRole Role, string? Reason, bool Unsupported) Decide(IServiceCollection services, FugueOptions options, IHostEnvironment environment, bool workersChosen)
    {
        if (WorkerActivation.Current is not null)
        {
            return (FugueRole.Worker, null, false);
        }
        if (!options.Enabled)
        {
            return (FugueRole.Standalone, $"{FugueOptions.SectionName}:Enabled is false", false);
        }
        if (!workersChosen && environment.IsDevelopment() && DebugSession() is { } session)
        {
            return (FugueRole.Standalone, $"{session} in Development and {FugueOptions.SectionName}:Workers is not set: one process, so that breakpoints in handlers hit; set {FugueOptions.SectionName}:Workers to run the cluster", false);
        }
        if (!OperatingSystem.IsLinux())
        {
            return (FugueRole.Standalone, "Fugue needs Linux; running as one ordinary process", true);
        }
        if (PlatformCheck.MissingHere() is { } missing)
        {
            return (FugueRole.Standalone, $"Fugue needs glibc 2.34 or later: this C library lacks {missing}; running as one ordinary process", true);
        }
        var server = services.LastOrDefault(d => d.ServiceType == typeof(IServer));
        if (server?.ImplementationType?.Assembly != typeof(KestrelServer).Assembly)
        {
            return (FugueRole.Standalone, $"the server is {server?.ImplementationType?.Name ?? server?.ImplementationInstance?.GetType().Name ?? "not registered"}, not Kestrel", false);
        }
        return (FugueRole.Master, null, false);
    }

    /// <summary>What makes this a debugging session: a debugger attached, or <c>dotnet watch</c> (which sets DOTNET_WATCH=1).</summary>
    private static string? DebugSession() =>
        Debugger.IsAttached ? "a debugger is attached"
        : Environment.GetEnvironmentVariable("DOTNET_WATCH") == "1" ? "dotnet watch runs the app"
        : null;
}
