using System.Net.Sockets;
using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// A worker's stdout and stderr, read by the master. Every line goes out whole (never interleaved with another
/// process's, nor with the worker's other stream) through the master's own stdout and stderr, so that LogFile and its
/// reopening on USR1 are the master's business only; every line is prefixed with the worker's id and pid (stderr's say
/// so), so that no worker can print a line that passes for the master's. What a worker writes is untrusted: a line is
/// cut at <see cref="MaxLine"/> bytes, with a marker, and the rest of it up to its newline is dropped, so the relay holds
/// at most one such buffer per stream whatever the worker writes; the worker waits while the master writes. The last
/// stderr lines are kept, so that a worker that dies (an unhandled exception at start) is reported with what it said.
/// </summary>
internal sealed class WorkerOutput : IDisposable
{
    public const int MaxLine = 16 * 1024;
    private const int KeptLines = 20;
    private readonly Queue<string> _tail = new();
    private readonly (int Master, int Worker) _stdout = Posix.StreamPair();
    private readonly (int Master, int Worker) _stderr = Posix.StreamPair();
    private readonly List<Socket> _reading = [];
    private Task _pumps = Task.CompletedTask;

    /// <summary>The ends the worker gets as its fd 1 and 2; the master closes its copies once the worker runs.</summary>
    public (int Stdout, int Stderr) WorkerEnds => (_stdout.Worker, _stderr.Worker);

    /// <param name="workerId">The worker's id, for the prefix.</param>
    /// <param name="pid">The worker's pid, for the prefix.</param>
    /// <param name="logFile">Where the lines go; null: the master's own stdout and stderr.</param>
    public void Start(int workerId, int pid, TextWriter? logFile)
    {
        Posix.Close(_stdout.Worker);
        Posix.Close(_stderr.Worker);
        string prefix = $"worker {workerId} (pid {pid})";
        _pumps = Task.WhenAll(
            PumpAsync(_stdout.Master, logFile ?? Console.Out, prefix + ": ", keep: false),
            PumpAsync(_stderr.Master, logFile ?? Console.Error, prefix + " stderr: ", keep: true));
    }

    /// <summary>
    /// Waits (briefly: a process the worker started may hold its output open) until everything the exited worker
    /// wrote has been read, so that its last words make it into the log line about its death; then stops reading. A
    /// process the worker left behind that still holds its output writes into a closed socket from then on: it is not
    /// the master's to relay, and it must not keep the master's descriptors and readers for as long as it lives.
    /// </summary>
    public void WaitForEnd(TimeSpan limit)
    {
        if (!_pumps.Wait(limit))
        {
            lock (_reading)
            {
                foreach (var socket in _reading)
                {
                    socket.Dispose();
                }
            }
        }
    }

    /// <summary>Copies lines until the worker's end closes (it exited).</summary>
    private async Task PumpAsync(int fd, TextWriter to, string prefix, bool keep)
    {
        using var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        lock (_reading)
        {
            _reading.Add(socket);
        }
        var lines = new LineSplitter(MaxLine);
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(lines.Free, SocketFlags.None).ConfigureAwait(false);
                foreach (string line in n == 0 ? lines.End() : lines.Add(n))
                {
                    await to.WriteLineAsync(prefix + line).ConfigureAwait(false);
                    if (keep)
                    {
                        Keep(line);
                    }
                }
                if (n == 0)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
        }
    }

    private void Keep(string line)
    {
        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > KeptLines)
            {
                _tail.Dequeue();
            }
        }
    }

    /// <summary>The last lines the worker wrote to stderr, oldest first.</summary>
    public string Tail()
    {
        lock (_tail)
        {
            return string.Join(" | ", _tail);
        }
    }

    /// <summary>Closes every end, when the worker could not be started.</summary>
    public void Dispose()
    {
        foreach (int fd in new[] { _stdout.Master, _stdout.Worker, _stderr.Master, _stderr.Worker })
        {
            Posix.Close(fd);
        }
    }
}
