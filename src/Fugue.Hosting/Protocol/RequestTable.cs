namespace Fugue.Hosting.Protocol;

/// <summary>
/// What each worker process served, in memory the master shares with its workers (a memfd every worker inherits, as
/// the <see cref="ConnectionTable"/>): per cell, requests by status class, requests in flight, the summed duration and
/// a duration histogram. A worker writes only its own cell; each cell is split in stripes, one per processor modulo
/// <see cref="Stripes"/>, on cache lines of their own, so that threads counting at once do not fight over one line.
/// The master reads a cell as the sum of its stripes and trusts none of it: a worker can write anything there.
/// </summary>
internal sealed unsafe class RequestTable
{
    public const int Capacity = ConnectionTable.Capacity;

    private const int Stripes = 4;
    internal const int StripeLongs = 32;
    internal const int CellLongs = Stripes * StripeLongs;
    internal const long Size = (Capacity + 1L) * CellLongs * sizeof(long);

    private readonly SharedCells _memory;
    private readonly long* _cells;

    private RequestTable(SharedCells memory)
    {
        _memory = memory;
        _cells = memory.Start;
    }

    /// <summary>The shared memory's descriptor in the master (close-on-exec; it goes to the workers through the spawn).</summary>
    public int Fd => _memory.Fd;

    /// <summary>The master's table. Throws <see cref="IOException"/> when the kernel refuses shared memory.</summary>
    public static RequestTable Create() => new(SharedCells.Create("fugue-requests", Size, Capacity));

    /// <summary>A worker's view of the table, mapped from the inherited descriptor, which is then closed.</summary>
    public static RequestTable Open(int fd) => new(SharedCells.Open(fd, Size));

    /// <summary>Master: a zeroed cell for a worker about to start, or null when all are taken (that worker goes uncounted).</summary>
    public int? Allocate()
    {
        if (_memory.Allocate() is not int cell)
        {
            return null;
        }
        new Span<long>(_cells + (cell * CellLongs), CellLongs).Clear();
        return cell;
    }

    /// <summary>Master: the worker in <paramref name="cell"/> was reaped and its counts read for the last time.</summary>
    public void Release(int cell) => _memory.Free(cell);

    /// <summary>Master: the counts of <paramref name="cell"/>: each stripe's value taken at zero or more, the sums saturated.</summary>
    public RequestCounts Read(int cell)
    {
        var counts = new long[RequestCounts.Length];
        long* first = _cells + (cell * CellLongs);
        for (int s = 0; s < Stripes; s++)
        {
            for (int i = 0; i < RequestCounts.Length; i++)
            {
                counts[i] = RequestCounts.Add(counts[i], Math.Max(0, Volatile.Read(ref first[(s * StripeLongs) + i])));
            }
        }
        return RequestCounts.Clamped(counts);
    }

    /// <summary>Worker: a request of <paramref name="cell"/> starts; pass what it returns to <see cref="End"/>.</summary>
    public int Begin(int cell)
    {
        int stripe = Thread.GetCurrentProcessorId() & (Stripes - 1);
        Interlocked.Increment(ref Slot(cell, stripe, RequestCounts.InFlightIndex));
        return stripe;
    }

    /// <summary>Worker: the request begun on <paramref name="stripe"/> ended with <paramref name="status"/> after <paramref name="elapsed"/>.</summary>
    public void End(int cell, int stripe, int status, TimeSpan elapsed)
    {
        Interlocked.Decrement(ref Slot(cell, stripe, RequestCounts.InFlightIndex));
        Interlocked.Increment(ref Slot(cell, stripe, RequestCounts.StatusIndex(status)));
        Interlocked.Add(ref Slot(cell, stripe, RequestCounts.DurationIndex), (long)elapsed.TotalMicroseconds);
        Interlocked.Increment(ref Slot(cell, stripe, RequestCounts.BucketIndex(elapsed)));
    }

    private ref long Slot(int cell, int stripe, int index) => ref _cells[(cell * CellLongs) + (stripe * StripeLongs) + index];
}
