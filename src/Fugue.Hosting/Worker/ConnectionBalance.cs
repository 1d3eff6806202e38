using System.Diagnostics;

namespace FugueHosting.Worker;

/// <summary>
/// This worker's part in the <see cref="ConnectionTable"/>: it counts its open connections there from its first
/// accept until it starts draining, and before each accept it waits while another accepting worker holds fewer
/// connections, for at most <see cref="MaxWait"/>, so that a worker that does not wake in time costs a connection
/// only that much delay. The kernel's queue is still shared: a worker that dies leaves its queued connections there.
/// </summary>
internal sealed class ConnectionBalance
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(5);

    private readonly ConnectionTable _table;
    private readonly int _cell;
    private int _started;

    public ConnectionBalance(ConnectionTable table, int cell, LameDuck lameDuck)
    {
        _table = table;
        _cell = cell;
        lameDuck.Draining.Register(() =>
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
        if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            _table.StartCounting(_cell);
            return;
        }
        long start = Stopwatch.GetTimestamp();
        while (_table.IsAhead(_cell) && Stopwatch.GetElapsedTime(start) < MaxWait)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts <paramref name="connection"/> until it closes.</summary>
    public void Track(Microsoft.AspNetCore.Connections.ConnectionContext connection)
    {
        _table.Opened(_cell);
        connection.ConnectionClosed.Register(static state => ((ConnectionBalance)state!).Closed(), this);
    }

    private void Closed() => _table.Closed(_cell);
}
