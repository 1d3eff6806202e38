using Fugue.Hosting.Master;

namespace Fugue.Hosting.Tests;

/// <summary>The runtime's tiering delay, off in spares only, and never against the app's own setting.</summary>
public sealed class SpareTieringTests
{
    private static readonly Func<string, string?> Unset = _ => null;

    [Fact]
    public void A_spare_tiers_up_without_the_delay()
    {
        Assert.Equal([new(SpareTiering.Variable, "0")], SpareTiering.Environment(WorkerStart.Spare, Unset));
    }

    [Theory]
    [InlineData(nameof(WorkerStart.Cold))]
    [InlineData(nameof(WorkerStart.Replacing))]
    [InlineData(nameof(WorkerStart.Resuscitating))]
    public void Other_workers_keep_the_runtimes_default(string start)
    {
        Assert.Empty(SpareTiering.Environment(Enum.Parse<WorkerStart>(start), Unset));
    }

    [Theory]
    [InlineData("DOTNET_TC_CallCountingDelayMs")]
    [InlineData("COMPlus_TC_CallCountingDelayMs")]
    public void The_apps_own_setting_holds(string variable)
    {
        Assert.Empty(SpareTiering.Environment(WorkerStart.Spare, name => name == variable ? "250" : null));
    }
}
