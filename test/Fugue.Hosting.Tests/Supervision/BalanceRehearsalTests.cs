using Fugue.Hosting.Protocol;
using Fugue.Hosting.Worker;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>A spare's rehearsal of the balance: both ways a wait ends, and each pass leaving the table as it found it. Fake time.</summary>
public sealed class BalanceRehearsalTests
{
    [Fact]
    public async Task Each_pass_waits_out_MaxWait_and_leaves_every_count_at_zero()
    {
        var table = ConnectionTable.Create();
        var time = new FakeTimeProvider();
        using var rehearsal = new BalanceRehearsal(table, time);
        for (int pass = 0; pass < 2; pass++)
        {
            var run = rehearsal.RunAsync();
            // The workers that no close wakes wait for time to pass; had the last pass left a count behind, none would.
            Assert.False(run.IsCompleted);

            time.Advance(ConnectionBalance.MaxWait);

            await run.WaitAsync(MasterProcess.Deadline);
            NonEmpty.All(Enumerable.Range(1, 9), cell => Assert.Equal(0, table.Count(cell)));
        }
    }
}
