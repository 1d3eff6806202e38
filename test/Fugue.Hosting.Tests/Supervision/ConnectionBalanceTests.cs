using FugueHosting;
using FugueHosting.Worker;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Time.Testing;

namespace Fugue.Hosting.Tests.Supervision;

/// <summary>The balance's decision to wait before an accept, and what ends the wait: two workers' cells in one real table, fake time.</summary>
public sealed class ConnectionBalanceTests
{
    [Fact]
    public async Task A_worker_ahead_waits_until_its_own_connection_closes_without_any_time_passing()
    {
        var table = ConnectionTable.Create();
        var time = new FakeTimeProvider();
        var busy = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        var idle = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        await busy.WaitForTurnAsync(CancellationToken.None); // the first accept starts the counting
        await idle.WaitForTurnAsync(CancellationToken.None);
        using var closed = new CancellationTokenSource();
        busy.Track(new DefaultConnectionContext { ConnectionClosed = closed.Token });

        Assert.True(idle.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted); // fewer connections: no wait
        var wait = busy.WaitForTurnAsync(CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);

        await closed.CancelAsync();
        await wait.WaitAsync(MasterProcess.Deadline); // woken by the close: the fake clock never moved
    }

    [Fact]
    public async Task A_draining_worker_no_longer_makes_the_others_wait()
    {
        var table = ConnectionTable.Create();
        var time = new FakeTimeProvider();
        using var draining = new CancellationTokenSource();
        var leaving = new ConnectionBalance(table, table.Allocate()!.Value, time, draining.Token);
        var staying = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        await leaving.WaitForTurnAsync(CancellationToken.None);
        await staying.WaitForTurnAsync(CancellationToken.None);
        staying.Track(new DefaultConnectionContext());
        Assert.False(staying.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted); // it waits for the other

        await draining.CancelAsync();

        Assert.True(staying.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted);
    }
}
