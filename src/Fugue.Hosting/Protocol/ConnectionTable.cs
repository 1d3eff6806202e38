namespace Fugue.Hosting.Protocol;

/// <summary>
/// How many connections each running worker holds open, in a page of memory the master shares with its workers (a
/// memfd every worker inherits). The master hands each worker process a cell and clears it when the process is
/// reaped; the worker counts its connections there while it accepts. The workers share one accept queue, on which
/// whoever wakes first takes a burst of keep-alive connections; with the table a worker that holds more connections
/// than the least busy one waits a moment before accepting, so that the less busy one gets the connection.
/// </summary>
internal sealed unsafe class ConnectionTable
{
    /// <summary>Cells for this many worker processes at once (old and new ones overlap during a rolling restart).</summary>
    public const int Capacity = 4095;

    private const long Size = (Capacity + 1) * sizeof(long);

    /// <summary>A cell whose worker is not accepting: not started yet, draining, or gone. Counts stay below zero.</summary>
    private const long Absent = long.MinValue / 2;

    /// <summary>Cell 0 holds one more than the highest cell in use, so that readers scan only that far.</summary>
    private readonly SharedCells _memory;
    private readonly long* _cells;

    /// <summary>Master: one more than the highest cell handed out, kept here (a worker may write anything into cell 0).</summary>
    private int _end = 1;

    private ConnectionTable(SharedCells memory)
    {
        _memory = memory;
        _cells = memory.Start;
    }

    /// <summary>The shared memory's descriptor in the master (close-on-exec; it goes to the workers through the spawn).</summary>
    public int Fd => _memory.Fd;

    /// <summary>The master's table. Throws <see cref="IOException"/> when the kernel refuses shared memory.</summary>
    public static ConnectionTable Create() => new(SharedCells.Create("fugue-connections", Size, Capacity));

    /// <summary>A worker's view of the table, mapped from the inherited descriptor, which is then closed.</summary>
    public static ConnectionTable Open(int fd) => new(SharedCells.Open(fd, Size));

    /// <summary>Master: a cell for a worker about to start, or null when all are taken (that worker goes uncounted).</summary>
    public int? Allocate()
    {
        if (_memory.Allocate() is not int cell)
        {
            return null;
        }
        Volatile.Write(ref _cells[cell], Absent);
        _end = Math.Max(_end, cell + 1);
        Volatile.Write(ref _cells[0], _end);
        return cell;
    }

    /// <summary>Master: the worker in <paramref name="cell"/> was reaped; whatever it counted is void.</summary>
    public void Release(int cell)
    {
        Volatile.Write(ref _cells[cell], Absent);
        _memory.Free(cell);
    }

    /// <summary>Master: the open connections the worker in <paramref name="cell"/> counts, accepting or stopped.</summary>
    public int Count(int cell)
    {
        long value = Volatile.Read(ref _cells[cell]);
        return (int)Math.Max(0, value < Absent / 2 ? value - Absent : value);
    }

    /// <summary>Worker: it is accepting, with no connection yet.</summary>
    public void StartCounting(int cell) => Volatile.Write(ref _cells[cell], 0);

    /// <summary>Worker: it accepts no more; its open connections no longer make the others wait.</summary>
    public void StopCounting(int cell) => Interlocked.Add(ref _cells[cell], Absent);

    public void Opened(int cell) => Interlocked.Increment(ref _cells[cell]);

    public void Closed(int cell) => Interlocked.Decrement(ref _cells[cell]);

    /// <summary>Worker: whether it holds more connections than some other worker that is accepting.</summary>
    public bool IsAhead(int cell)
    {
        long mine = Volatile.Read(ref _cells[cell]);
        if (mine <= 0)
        {
            return false;
        }
        long end = Math.Min(Volatile.Read(ref _cells[0]), Capacity + 1);
        for (long i = 1; i < end; i++)
        {
            long other = Volatile.Read(ref _cells[i]);
            if (i != cell && other >= 0 && other < mine)
            {
                return true;
            }
        }
        return false;
    }
}
