using System.Net.Sockets;
using System.Text;

namespace FugueHosting.Master;

/// <summary>
/// A worker's stderr, read by the master: every line goes to the master's stderr whole (never interleaved with
/// another process's), prefixed with the worker's id and pid, and the last lines are kept so that a worker that
/// dies (an unhandled exception at start) is reported with what it said.
/// </summary>
internal sealed class WorkerOutput(Socket socket)
{
    private const int KeptLines = 20;
    private readonly Queue<string> _tail = new();
    private Task _pump = Task.CompletedTask;

    public void Start(int workerId, int pid) => _pump = PumpAsync(workerId, pid);

    /// <summary>
    /// Waits (briefly: a process the worker started may hold its stderr open) until everything the exited worker
    /// wrote has been read, so that its last words make it into the log line about its death.
    /// </summary>
    public void WaitForEnd(TimeSpan limit) => _pump.Wait(limit);

    /// <summary>Copies lines until the worker's end closes (it exited).</summary>
    private async Task PumpAsync(int workerId, int pid)
    {
        using var reader = new StreamReader(new NetworkStream(socket, ownsSocket: true), Encoding.UTF8);
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await Console.Error.WriteLineAsync($"worker {workerId} (pid {pid}) stderr: {line}").ConfigureAwait(false);
                lock (_tail)
                {
                    _tail.Enqueue(line);
                    if (_tail.Count > KeptLines)
                    {
                        _tail.Dequeue();
                    }
                }
            }
        }
        catch (IOException)
        {
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
}
