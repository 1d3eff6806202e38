using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>
/// The cluster's requests as one view: what this master's reaped workers served, what its running workers serve (from
/// the <see cref="RequestTable"/>) and what the master before it handed over (USR2). Every count only grows: a
/// worker's cell is read as at least what was read before, a reaped worker's counts stay, and a new master starts from
/// its predecessor's totals, which it reads from a page of shared memory the old master keeps current until it exits.
/// The loop and the metrics' collectors read it from their threads, so it locks.
/// </summary>
internal sealed unsafe class RequestTotals
{
    private static readonly long PageSize = RequestCounts.Length * sizeof(long);

    private readonly Lock _lock = new();
    private readonly RequestTable _table;
    private readonly long* _page;
    private readonly long* _predecessor;
    private readonly Dictionary<int, RequestCounts> _running = [];
    private RequestCounts _inherited = RequestCounts.None;
    private RequestCounts _reaped = RequestCounts.None;

    private RequestTotals(RequestTable table, int pageFd, long* page, long* predecessor)
    {
        _table = table;
        PageFd = pageFd;
        _page = page;
        _predecessor = predecessor;
    }

    /// <summary>The page a new master reads this master's totals from (close-on-exec; passed to it on USR2).</summary>
    public int PageFd { get; }

    public int TableFd => _table.Fd;

    /// <summary>
    /// Counting for this master, from the predecessor's page when a USR2 passed one (its descriptor is closed here).
    /// Throws <see cref="IOException"/> when the kernel refuses shared memory.
    /// </summary>
    public static RequestTotals Create(int? predecessorFd)
    {
        long* predecessor = null;
        if (predecessorFd is int inherited)
        {
            try
            {
                predecessor = (long*)Posix.MapShared(inherited, PageSize);
            }
            finally
            {
                Posix.Close(inherited);
            }
        }
        var table = RequestTable.Create();
        int fd = Posix.CreateSharedMemory("fugue-totals", PageSize);
        return new RequestTotals(table, fd, (long*)Posix.MapShared(fd, PageSize), predecessor);
    }

    /// <summary>A cell for a worker about to start; null when all are taken.</summary>
    public int? Allocate()
    {
        lock (_lock)
        {
            int? cell = _table.Allocate();
            if (cell is int c)
            {
                _running[c] = RequestCounts.None;
            }
            return cell;
        }
    }

    /// <summary>What the worker in <paramref name="cell"/> has served since it started.</summary>
    public RequestCounts Worker(int cell)
    {
        lock (_lock)
        {
            return ReadRunning(cell);
        }
    }

    /// <summary>The worker in <paramref name="cell"/> is gone: what it served stays in the totals, its cell is free.</summary>
    public void Reaped(int cell)
    {
        lock (_lock)
        {
            if (_running.ContainsKey(cell))
            {
                _reaped = _reaped.Plus(ReadRunning(cell).Settled());
                _running.Remove(cell);
                _table.Release(cell);
            }
            Publish(TotalLocked());
        }
    }

    /// <summary>Everything served so far, and in flight now, across workers and masters.</summary>
    public RequestCounts Total()
    {
        lock (_lock)
        {
            var total = TotalLocked();
            Publish(total);
            return total;
        }
    }

    private RequestCounts TotalLocked()
    {
        if (_predecessor is not null)
        {
            _inherited = _inherited.AtLeast(RequestCounts.FromValues(ReadPage(_predecessor)));
        }
        var total = _inherited.Plus(_reaped);
        foreach (int cell in _running.Keys)
        {
            total = total.Plus(ReadRunning(cell));
        }
        return total;
    }

    private RequestCounts ReadRunning(int cell) =>
        _running.TryGetValue(cell, out var before) ? _running[cell] = before.AtLeast(_table.Read(cell)) : RequestCounts.None;

    private void Publish(RequestCounts total)
    {
        var values = total.Values;
        for (int i = 0; i < values.Length; i++)
        {
            Volatile.Write(ref _page[i], values[i]);
        }
    }

    private static long[] ReadPage(long* page)
    {
        var values = new long[RequestCounts.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Volatile.Read(ref page[i]);
        }
        return values;
    }
}
