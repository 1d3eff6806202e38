using Fugue.Hosting.Protocol;
using Microsoft.AspNetCore.Connections;

namespace Fugue.Hosting.Worker;

/// <summary>
/// This worker's part in the <see cref="ConnectionTable"/>: it counts its open connections there from its first
/// accept until it starts draining, and before each accept it waits while another accepting worker holds fewer
/// connections, for at most <see cref="MaxWait"/>, so that a worker that does not wake in time costs a connection
/// only that much delay. The kernel's queue is still shared: a worker that dies leaves its queued connections there.
/// A worker counts as accepting once its first accept waits in the kernel, not when it sets out to accept: from then
/// the others wait for it, and before, a worker still compiling its way to that accept (a promoted spare) would have
/// held a queued connection back.
/// </summary>
internal sealed class ConnectionBalance
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// How often a waiting worker looks at the others' counts (it cannot be woken by another process). Its own
    /// connections closing wake it at once: otherwise, with one connection at a time, the worker that took the last
    /// one would sleep through the next while the other is busy, and the connection would wait in the queue.
    /// </summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(1);

    private readonly ConnectionTable _table;
    private readonly int _cell;
    private readonly TimeProvider _time;
    /// <summary>Completed, and replaced, when one of this worker's connections closes; awaited by every listener's accept loop.</summary>
    private TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public ConnectionBalance(ConnectionTable table, int cell, TimeProvider time, CancellationToken draining)
    {
        _table = table;
        _cell = cell;
        _time = time;
        draining.Register(() =>
        {
            if (Interlocked.Exchange(ref _started, 2) == 1)
            {
                _table.StopCounting(_cell);
            }
        });
    }

    /// <summary>Returns when it is this worker's turn to accept, or when <see cref="MaxWait"/> has passed.</summary>
    public async ValueTask WaitForTurnAsync(CancellationToken cancellationToken)
    {
        long start = _time.GetTimestamp();
        while (_table.IsAhead(_cell) && _time.GetElapsedTime(start) is var waited && waited < MaxWait)
        {
            var closed = Volatile.Read(ref _closed).Task;
            if (!_table.IsAhead(_cell))
            {
                break; // a close between the check and the read above would not wake this wait
            }
            var wait = MaxWait - waited < Recheck ? MaxWait - waited : Recheck;
            await Task.WhenAny(closed, Task.Delay(wait, _time, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Awaits <paramref name="accepting"/>, an accept that has started (so this worker counts as accepting from here on),
    /// and counts its connection until it closes.
    /// </summary>
    public async ValueTask<ConnectionContext?> CountAsync(ValueTask<ConnectionContext?> accepting)
    {
        if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            _table.StartCounting(_cell);
        }
        var connection = await accepting.ConfigureAwait(false);
        if (connection is not null)
        {
            Track(connection);
        }
        return connection;
    }

    private void Track(ConnectionContext connection)
    {
        _table.Opened(_cell);
        connection.ConnectionClosed.Register(static state => ((ConnectionBalance)state!).Closed(), this);
    }

    private void Closed()
    {
        _table.Closed(_cell);
        Interlocked.Exchange(ref _closed, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
