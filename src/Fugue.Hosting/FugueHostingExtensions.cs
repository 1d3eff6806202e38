using Fugue.Hosting.Activation;
using Fugue.Hosting.Cli;
using Fugue.Hosting.Configuration;
using Fugue.Hosting.Master;
using Fugue.Hosting.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        var options = FugueActivation.ReadOptions(builder.Configuration, configure);
        RunCommandIfAsked(options, builder.Environment.ApplicationName);
        PrepareProcess(options.Enabled);
        AddOptions(builder.Services, builder.Configuration, configure);
        builder.ConfigureContainer(new FugueServiceProviderFactory(options, builder.Environment, OptionsBinding.WorkersChosen(builder.Configuration, options)));
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
        builder.ConfigureServices((context, services) => AddOptions(services, context.Configuration, configure));
        builder.UseServiceProviderFactory(context =>
        {
            var options = FugueActivation.ReadOptions(context.Configuration, configure);
            RunCommandIfAsked(options, context.HostingEnvironment.ApplicationName);
            return new FugueServiceProviderFactory(options, context.HostingEnvironment, OptionsBinding.WorkersChosen(context.Configuration, options));
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

    private static void AddOptions(IServiceCollection services, IConfiguration configuration, Action<FugueOptions>? configure)
    {
        if (WorkerActivation.Current is { Settings: { } settings })
        {
            // Validated by the master at launch; the files may have changed (or broken) since.
            services.AddSingleton<IOptions<FugueOptions>>(Microsoft.Extensions.Options.Options.Create(settings.ToOptions()));
            return;
        }
        // Bound when the options are made, without a change-token source: the master reads a new configuration only on
        // HUP, as a candidate (ConfigurationReload), and no options monitor may re-validate it from inside the reload.
        var optionsBuilder = services.AddOptions<FugueOptions>().Configure(o => OptionsBinding.Bind(configuration, o));
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }
        optionsBuilder.ValidateOnStart();
        services.AddSingleton<IValidateOptions<FugueOptions>, FugueOptionsValidator>();
    }
}
