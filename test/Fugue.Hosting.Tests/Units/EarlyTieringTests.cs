using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Master.Supervision;

namespace Fugue.Hosting.Tests.Units;

/// <summary>The runtime's tiering delay: off in spares and in replacements that start idle, and never against the app's own setting.</summary>
public sealed class EarlyTieringTests
{
    private static readonly Func<string, string?> Unset = _ => null;

    private static readonly StartPriority AtNice = new(10, Idle: false);

    private static readonly StartPriority Idle = new(10, Idle: true);

    [Fact]
    public void A_spare_tiers_up_early_at_any_priority_and_gets_the_delay_off()
    {
        Assert.True(EarlyTiering.For(WorkerStart.Spare, null));
        Assert.True(EarlyTiering.For(WorkerStart.Spare, AtNice));
        Assert.Equal([new(EarlyTiering.Variable, "0")], EarlyTiering.Environment(true, Unset));
    }

    [Fact]
    public void A_replacement_tiers_up_early_only_when_it_starts_idle()
    {
        Assert.True(EarlyTiering.For(WorkerStart.Replacing, Idle));
        Assert.False(EarlyTiering.For(WorkerStart.Replacing, AtNice));
        Assert.False(EarlyTiering.For(WorkerStart.Replacing, null));
    }

    [Theory]
    [InlineData(nameof(WorkerStart.Cold))]
    [InlineData(nameof(WorkerStart.Resuscitating))]
    public void Workers_that_clients_wait_for_keep_the_runtimes_default(string start)
    {
        Assert.False(EarlyTiering.For(Enum.Parse<WorkerStart>(start), null));
        Assert.Empty(EarlyTiering.Environment(false, Unset));
    }

    [Theory]
    [InlineData("DOTNET_TC_CallCountingDelayMs")]
    [InlineData("COMPlus_TC_CallCountingDelayMs")]
    public void The_apps_own_setting_holds(string variable)
    {
        Assert.Empty(EarlyTiering.Environment(true, name => name == variable ? "250" : null));
    }
}
