using Fugue.Hosting.Protocol;
using Fugue.Hosting.Worker;
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
        var idleAccept = new TaskCompletionSource<ConnectionContext?>();
        var idleCounted = idle.CountAsync(new(idleAccept.Task)).AsTask(); // its first accept waits in the kernel
        using var closed = new CancellationTokenSource();
        await busy.CountAsync(new(new DefaultConnectionContext { ConnectionClosed = closed.Token }));

        Assert.True(idle.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted); // fewer connections: no wait
        var wait = busy.WaitForTurnAsync(CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);

        await closed.CancelAsync();
        await wait.WaitAsync(MasterProcess.Deadline); // woken by the close: the fake clock never moved
        idleAccept.SetResult(null);
        Assert.Null(await idleCounted);
    }

    [Fact]
    public async Task A_worker_holds_the_others_back_only_once_its_first_accept_waits()
    {
        var table = ConnectionTable.Create();
        var time = new FakeTimeProvider();
        var serving = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        var newcomer = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        await serving.CountAsync(new(new DefaultConnectionContext()));

        // The newcomer is on its way to its first accept (a spare just promoted, still compiling): no one waits for it.
        await newcomer.WaitForTurnAsync(CancellationToken.None);
        Assert.True(serving.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted);

        // Its accept waits in the kernel: the worker one connection ahead waits for its turn, at most MaxWait.
        var accept = new TaskCompletionSource<ConnectionContext?>();
        var counted = newcomer.CountAsync(new(accept.Task)).AsTask();
        var turn = serving.WaitForTurnAsync(CancellationToken.None).AsTask();
        Assert.False(turn.IsCompleted);
        time.Advance(ConnectionBalance.MaxWait);
        await turn.WaitAsync(MasterProcess.Deadline);
        accept.SetResult(null);
        Assert.Null(await counted);
    }

    [Fact]
    public async Task A_draining_worker_no_longer_makes_the_others_wait()
    {
        var table = ConnectionTable.Create();
        var time = new FakeTimeProvider();
        using var draining = new CancellationTokenSource();
        var leaving = new ConnectionBalance(table, table.Allocate()!.Value, time, draining.Token);
        var staying = new ConnectionBalance(table, table.Allocate()!.Value, time, CancellationToken.None);
        var leavingAccept = new TaskCompletionSource<ConnectionContext?>();
        var leavingCounted = leaving.CountAsync(new(leavingAccept.Task)).AsTask();
        await staying.CountAsync(new(new DefaultConnectionContext()));
        Assert.False(staying.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted); // it waits for the other

        await draining.CancelAsync();

        Assert.True(staying.WaitForTurnAsync(CancellationToken.None).AsTask().IsCompleted);
        leavingAccept.SetResult(null);
        Assert.Null(await leavingCounted);
    }
}
