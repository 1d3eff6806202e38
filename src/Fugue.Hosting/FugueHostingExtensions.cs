using Fugue.Hosting.Activation;
using Fugue.Hosting.Cli;
using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Fugue.Hosting.Worker;

namespace Microsoft.Extensions.Hosting;

/// <summary>The door to Fugue: one call turns the app into a master that supervises worker processes.</summary>
public static class FugueHostingExtensions
{
    /// <summary>
    /// Runs the app as a Fugue cluster: started by a person or a service manager it is the master (binds the
    /// listening sockets, starts and supervises the workers, serves nothing); started by the master it is a worker
    /// (Kestrel on the inherited sockets). Options come from the <c>Fugue</c> configuration section, then
    /// <paramref name="configure"/>. Fugue stays out of the way (one ordinary process) when disabled, off Linux, or
    /// when the server is not Kestrel (WebApplicationFactory).
    /// </summary>
    /// <param name="builder">The application builder, e.g. a WebApplicationBuilder.</param>
    /// <param name="configure">Changes to the options after configuration is bound.</param>
    /// <returns>The same builder.</returns>
    public static IHostApplicationBuilder UseFugue(this IHostApplicationBuilder builder, Action<FugueOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var start = FugueActivation.ReadOptions(new OptionsSource(builder.Configuration, configure));
        RunCommandIfAsked(start.Options, builder.Environment.ApplicationName);
        PrepareProcess(start.Options.Enabled);
        builder.ConfigureContainer(new FugueServiceProviderFactory(start, builder.Environment));
        return builder;
    }

    /// <summary>
    /// Runs the app as a Fugue cluster (see <see cref="UseFugue(IHostApplicationBuilder, Action{FugueOptions}?)"/>).
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="configure">Changes to the options after configuration is bound.</param>
    /// <returns>The same builder.</returns>
    public static IHostBuilder UseFugue(this IHostBuilder builder, Action<FugueOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PrepareProcess(enabled: true); // the configuration is not read yet; Enabled=false is seen at Build
        builder.UseServiceProviderFactory(context =>
        {
            var start = FugueActivation.ReadOptions(new OptionsSource(context.Configuration, configure));
            RunCommandIfAsked(start.Options, context.HostingEnvironment.ApplicationName);
            return new FugueServiceProviderFactory(start, context.HostingEnvironment);
        });
        return builder;
    }

    /// <summary><c>&lt;app&gt; fugue &lt;command&gt;</c>: this process is a control client; it answers and exits here.</summary>
    private static void RunCommandIfAsked(FugueOptions options, string applicationName)
    {
        if (WorkerActivation.Current is null && FugueCommand.Requested(Environment.GetCommandLineArgs()) is { } words)
        {
            Environment.Exit(FugueCommand.Run(words, options, applicationName));
        }
    }

    /// <summary>What must happen before the host exists: a worker takes its identity, a would-be master its signals.</summary>
    private static void PrepareProcess(bool enabled)
    {
        if (WorkerActivation.Activate() is null && enabled && OperatingSystem.IsLinux())
        {
            MasterLifetime.RestoreIgnoredSignals();
        }
    }
}
