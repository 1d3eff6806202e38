using Fugue.Hosting.Native;

namespace Fugue.Hosting.Protocol;

/// <summary>
/// A table of cells in memory a master shares with its workers (a sealed memfd each worker inherits and maps): the
/// master hands out cell 1 and up, one per worker process; cell 0 is left to the table's own use.
/// </summary>
internal sealed unsafe class SharedCells
{
    private readonly bool[]? _used;

    private SharedCells(long* start, bool[]? used, int fd)
    {
        Start = start;
        _used = used;
        Fd = fd;
    }

    /// <summary>The first long of the mapping.</summary>
    public long* Start { get; }

    /// <summary>The descriptor in the master (close-on-exec; it goes to the workers through the spawn); -1 in a worker.</summary>
    public int Fd { get; }

    /// <summary>The master's table of <paramref name="cells"/> cells after cell 0. Throws <see cref="IOException"/> when the kernel refuses.</summary>
    public static SharedCells Create(string name, long size, int cells)
    {
        int fd = Posix.CreateSharedMemory(name, size);
        try
        {
            return new SharedCells((long*)Posix.MapShared(fd, size), new bool[cells + 1], fd);
        }
        catch
        {
            Posix.Close(fd);
            throw;
        }
    }

    /// <summary>A worker's view, mapped from the inherited descriptor, which is then closed.</summary>
    public static SharedCells Open(int fd, long size)
    {
        try
        {
            return new SharedCells((long*)Posix.MapShared(fd, size), null, -1);
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    /// <summary>Master: a free cell, or null when all are taken.</summary>
    public int? Allocate()
    {
        int cell = Array.IndexOf(_used!, false, 1);
        if (cell < 0)
        {
            return null;
        }
        _used![cell] = true;
        return cell;
    }

    /// <summary>Master: the cell is free again.</summary>
    public void Free(int cell) => _used![cell] = false;
}
