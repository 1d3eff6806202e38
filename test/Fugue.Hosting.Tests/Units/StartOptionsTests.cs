using Fugue.Hosting.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The options a process starts with are read once: every reader sees that read, and what it refused stops the start.</summary>
public sealed class StartOptionsTests
{
    [Fact]
    public void The_options_are_bound_once_and_every_reader_sees_that_read()
    {
        int delegateRuns = 0;
        using var host = Build(new() { ["Fugue:Enabled"] = "false", ["Fugue:Workers"] = "3" }, o =>
        {
            delegateRuns++;
            o.WarmUpRequests = 7;
        });

        var start = host.Services.GetRequiredService<StartOptions>();
        var options = host.Services.GetRequiredService<IOptions<FugueOptions>>().Value;
        Assert.Same(start.Options, options);
        Assert.Same(options, host.Services.GetRequiredService<IOptionsMonitor<FugueOptions>>().CurrentValue);
        Assert.Same(options, host.Services.GetRequiredService<IOptionsFactory<FugueOptions>>().Create(Options.DefaultName));
        Assert.Equal((3, 7, false), (options.Workers, options.WarmUpRequests, options.Enabled));
        Assert.True(start.WorkersChosen);
        Assert.Equal(1, delegateRuns);
    }

    [Theory]
    [InlineData("Fugue:Wokers", "3", "a key that no option has")]
    [InlineData("Fugue:Workers", "-1", "Fugue:Workers = -1: must be 0 or more.")]
    public async Task A_refused_read_stops_the_start_naming_the_key(string key, string value, string named)
    {
        using var host = Build(new() { ["Fugue:Enabled"] = "false", [key] = value }, configure: null);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_read_leaves_the_defaults_with_the_apps_delegate_and_no_chosen_worker_count()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Fugue:Wokers"] = "3" }).Build();

        var start = StartOptions.Read(new OptionsSource(configuration, o => o.SpareWorkers = 1));

        Assert.Equal((FugueOptions.DefaultWorkers, 1), (start.Options.Workers, start.Options.SpareWorkers));
        Assert.False(start.WorkersChosen);
        Assert.Throws<InvalidOperationException>(() => start.Validated([]));
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<FugueOptions>? configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.UseFugue(configure);
        return builder.Build();
    }
}
