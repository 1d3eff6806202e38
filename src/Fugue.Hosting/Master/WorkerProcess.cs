using System.Diagnostics;
using System.Net.Sockets;

namespace FugueHosting.Master;

/// <summary>
/// One child of the master and the master's end of its control channel: a worker, or (id 0) the new master a USR2
/// started. Owned by the supervisor loop.
/// </summary>
internal sealed class WorkerProcess(int workerId, int generation, int pid, Socket channel)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public int WorkerId { get; } = workerId;

    /// <summary>Which configuration it runs: 1 at start, one more at every rolling restart.</summary>
    public int Generation { get; } = generation;
    public int Pid { get; } = pid;
    public bool Ready { get; set; }

    /// <summary>The lower priority (nice) it was started at, given back when it is ready; null: started at normal priority.</summary>
    public int? StartedAtNice { get; set; }

    /// <summary>Its cell in the <see cref="ConnectionTable"/> (workers only), freed when it is reaped.</summary>
    public int? ConnectionCell { get; set; }

    /// <summary>Its stderr, read by the master (workers only).</summary>
    public WorkerOutput? Output { get; set; }

    /// <summary>What it last wrote to stderr, for the log line about its death.</summary>
    public string LastOutput => Output?.Tail() is { Length: > 0 } tail ? tail : "(nothing)";

    /// <summary>Set once the master has asked it to stop: its exit is not a failure to recover from.</summary>
    public bool Stopping { get; private set; }

    /// <summary>When a stopping worker is SIGKILLed if it is still there.</summary>
    public long? KillAt { get; private set; }

    public TimeSpan Uptime => Stopwatch.GetElapsedTime(_started);

    private long _lastHeard = Stopwatch.GetTimestamp();

    /// <summary>How long since the worker last said anything (ready, heartbeat).</summary>
    public TimeSpan Silence => Stopwatch.GetElapsedTime(_lastHeard);

    /// <summary>Records a message from the worker; or, after the master itself was paused, forgives the silence.</summary>
    public void Heard() => _lastHeard = Stopwatch.GetTimestamp();

    public void MarkStopping(TimeSpan killTimeout)
    {
        Stopping = true;
        KillAt = Stopwatch.GetTimestamp() + (long)(killTimeout.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Records that it was sent SIGKILL: it is stopping, with no deadline left to enforce.</summary>
    public void MarkKilled()
    {
        Stopping = true;
        KillAt = null;
    }

    /// <summary>Reads the worker's messages until its end closes (its exit is then seen by the reaping).</summary>
    public async Task ReadAsync(MasterInbox inbox)
    {
        byte[] buffer = new byte[16];
        try
        {
            while (true)
            {
                int n = await channel.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                inbox.Post(new MasterEvent.FromWorker(this, (ControlMessage)buffer[0]));
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Answers a heartbeat; a worker whose channel is full or gone does not hold the loop up.</summary>
    public void Answer()
    {
        try
        {
            channel.Send([(byte)ControlMessage.HeartbeatAnswer]);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public void CloseChannel() => channel.Dispose();
}
