using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace Fugue.Hosting.Worker;

/// <summary>
/// A spare's rehearsal of the code its promotion runs that no warm-up request reaches: the <see cref="ConnectionBalance"/>
/// counting connections, waiting for a turn (woken by a close, or through its rechecks until MaxWait) and the runtime's
/// timer and task code under those waits. Run once a warm-up round, that code reaches its final tier with the rest and
/// the warm-up's quiet JIT covers it; with one pass at the end only, a promoted spare still re-compiled those methods
/// at higher tiers in its first moments of serving. On a table of its own: <see cref="Dispose"/> closes the
/// descriptor, and the mapping stays.
/// </summary>
internal sealed class BalanceRehearsal : IDisposable
{
    /// <summary>Workers ahead in each pass, all waiting at once (a pass takes one MaxWait): half are woken by a close.</summary>
    private const int Ahead = 8;

    private readonly ConnectionTable _table;
    private readonly ConnectionBalance _behind;
    private readonly ConnectionBalance[] _ahead;
    private int _disposed;

    internal BalanceRehearsal(ConnectionTable table, TimeProvider time) // For testing
    {
        _table = table;
        _behind = Balance(table, time);
        _ahead = [.. Enumerable.Range(0, Ahead).Select(_ => Balance(table, time))];
    }

    /// <summary>Null when the kernel refuses shared memory: a rehearsal only saves time.</summary>
    public static BalanceRehearsal? Create()
    {
        try
        {
            return new BalanceRehearsal(ConnectionTable.Create(), TimeProvider.System);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>One pass; every count is back at zero at its end, as at its start.</summary>
    public async Task RunAsync()
    {
        var accept = new TaskCompletionSource<ConnectionContext?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var behind = _behind.CountAsync(new(accept.Task)).AsTask();
        var closes = new CancellationTokenSource[Ahead];
        var turns = new Task[Ahead];
        for (int i = 0; i < Ahead; i++)
        {
            closes[i] = new CancellationTokenSource();
            await _ahead[i].CountAsync(new(new DefaultConnectionContext { ConnectionClosed = closes[i].Token })).ConfigureAwait(false);
            turns[i] = _ahead[i].WaitForTurnAsync(CancellationToken.None).AsTask();
        }
        for (int i = 0; i < Ahead; i += 2)
        {
            await closes[i].CancelAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(turns).ConfigureAwait(false);
        foreach (var close in closes)
        {
            await close.CancelAsync().ConfigureAwait(false);
            close.Dispose();
        }
        using var closed = new CancellationTokenSource();
        accept.SetResult(new DefaultConnectionContext { ConnectionClosed = closed.Token });
        await behind.ConfigureAwait(false);
        await closed.CancelAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Native.Posix.Close(_table.Fd);
        }
    }

    private static ConnectionBalance Balance(ConnectionTable table, TimeProvider time) =>
        new(table, table.Allocate()!.Value, time, CancellationToken.None);
}
