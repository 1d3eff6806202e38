using System.Net.Sockets;
using System.Threading.Channels;
using Fugue.Hosting.Master.Spawning;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// One child of the master and the master's end of its control channel: a worker, or the new master a USR2 started.
/// Owned by the supervisor loop. What it sends is untrusted (it runs the app's bugs): at most <see cref="MaxQueued"/>
/// of its messages wait in the master's inbox at once and at most <see cref="MaxPerSecond"/> are read a second; past
/// that the channel is simply not read, and the child's sends block.
/// </summary>
internal sealed class ChildProcess(ChildKind kind, int workerId, int generation, int pid, WorkerSettings settings, Socket channel, TimeProvider time)
{
    public const int MaxQueued = 8;
    public const int MaxPerSecond = 100;

    private readonly long _started = time.GetTimestamp();
    private readonly Channel<bool> _queued = Channel.CreateBounded<bool>(MaxQueued);

    public ChildKind Kind { get; } = kind;

    /// <summary>A worker's slot number; 0 for a new master, and for a spare until it takes a slot.</summary>
    public int WorkerId { get; private set; } = workerId;

    /// <summary>How the log names it.</summary>
    public string Name => Kind == ChildKind.NewMaster ? "New master" : WorkerId == 0 ? "Spare worker" : $"Worker {WorkerId}";

    /// <summary>Which configuration it runs: 1 at start, one more at every rolling restart.</summary>
    public int Generation { get; } = generation;
    public int Pid { get; } = pid;

    /// <summary>The settings of the configuration it was launched with, for its whole life.</summary>
    public WorkerSettings Settings { get; } = settings;

    private long? _readyAt;

    /// <summary>Whether it has said it is ready (it accepts, or as a spare could).</summary>
    public bool Ready => _readyAt is not null;

    /// <summary>Records that it said it is ready (the first time counts).</summary>
    public void MarkReady() => _readyAt ??= time.GetTimestamp();

    /// <summary>
    /// Whether its start held: it was ready for <see cref="WorkerSlot.StartHeld"/>. One whose start did not hold (an exit
    /// or a kill before it was ready, or right after) is an early exit, which backs its slot off.
    /// </summary>
    public bool StartHeld => _readyAt is long at && time.GetElapsedTime(at) >= WorkerSlot.StartHeld;

    /// <summary>
    /// How long it may take to say it is ready: its WorkerBootTimeout; twice that for a new master, which is ready when
    /// its workers are: its own start, then theirs, each given the time a worker is (starved below the serving priority,
    /// each is raised only at half of it).
    /// </summary>
    public TimeSpan BootDeadline => Kind == ChildKind.NewMaster ? Settings.BootTimeout * 2 : Settings.BootTimeout;

    /// <summary>Set once it was killed for not becoming ready within its WorkerBootTimeout; its exit then counts as a crash.</summary>
    public bool BootTimedOut { get; set; }

    /// <summary>Whether the master killed it for falling silent (WorkerTimeout).</summary>
    public bool Hung { get; set; }

    /// <summary>Set once a message that made no sense was logged: one line per child, not one per message.</summary>
    public bool ReportedStrayMessage { get; set; }

    /// <summary>The lower priority it was started at, until the serving one is given back; null: it has that.</summary>
    public StartPriority? StartedAt { get; set; }

    /// <summary>What the master changed on every thread of it lately, set again until it settles; null: nothing is settling.</summary>
    public ThreadSettings? Settling { get; set; }

    /// <summary>Why it is to be recycled once a replacement can take its slot; null: it is not.</summary>
    public RecycleReason? Recycle { get; set; }

    /// <summary>When it is recycled (workers): drawn once, as it was launched.</summary>
    public RecycleLimits Limits { get; set; } = RecycleLimits.None;

    /// <summary>How many of its private-memory samples in a row were above Fugue:MemoryLimit.</summary>
    public int MemorySamplesOver { get; set; }

    /// <summary>Whether it has been serving requests lately.</summary>
    public RequestActivity Activity { get; } = new();

    /// <summary>Its cell in the <see cref="ConnectionTable"/> (workers only), freed when it is reaped.</summary>
    public int? ConnectionCell { get; set; }

    /// <summary>What signals it (<see cref="IMasterSystem.Signal"/>); null for a child that is no process of this machine (tests).</summary>
    public ProcessHandle? Handle { get; init; }

    /// <summary>Its cell in the <see cref="RequestTable"/> (workers only); its counts stay in the totals when it is reaped.</summary>
    public int? RequestCell { get; set; }

    /// <summary>Its stderr, read by the master (workers only).</summary>
    public WorkerOutput? Output { get; set; }

    /// <summary>What it last wrote to stderr, for the log line about its death.</summary>
    public string LastOutput => Output?.Tail() is { Length: > 0 } tail ? tail : "(nothing)";

    /// <summary>Set once the master has asked it to stop: its exit is not a failure to recover from.</summary>
    public bool Stopping { get; private set; }

    /// <summary>When a stopping worker is SIGKILLed if it is still there (a <see cref="TimeProvider"/> timestamp).</summary>
    public long? KillAt { get; private set; }

    public TimeSpan Uptime => time.GetElapsedTime(_started);

    private long _lastHeard = time.GetTimestamp();

    /// <summary>How long since the worker last said anything (ready, heartbeat).</summary>
    public TimeSpan Silence => time.GetElapsedTime(_lastHeard);

    /// <summary>Records a message from the worker; or, after the master itself was paused, forgives the silence.</summary>
    public void Heard() => _lastHeard = time.GetTimestamp();

    /// <summary>Whether it was asked to stop and its WorkerKillTimeout has passed since.</summary>
    public bool PastKillTimeout => KillAt is long at && time.GetTimestamp() >= at;

    /// <summary>Records that it was asked to stop: it is killed if still there after its WorkerKillTimeout.</summary>
    public void MarkStopping()
    {
        Stopping = true;
        KillAt = time.After(Settings.KillTimeout);
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
        long window = time.GetTimestamp();
        int inWindow = 0;
        try
        {
            while (true)
            {
                int n = await channel.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0 && Posix.PeerClosed(channel))
                {
                    break;
                }
                if (++inWindow > MaxPerSecond)
                {
                    var left = TimeSpan.FromSeconds(1) - time.GetElapsedTime(window);
                    if (left > TimeSpan.Zero)
                    {
                        await Task.Delay(left, time).ConfigureAwait(false);
                    }
                    window = time.GetTimestamp();
                    inWindow = 1;
                }
                await _queued.Writer.WriteAsync(true).ConfigureAwait(false);
                // A message is one byte; anything else (an empty one too) is garbage, passed on as a value no message has.
                inbox.Post(new MasterEvent.FromWorker(this, n == 1 ? (ControlMessage)buffer[0] : ControlMessage.Malformed));
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
    public void Answer() => Send(ControlMessage.HeartbeatAnswer);

    /// <summary>Tells the worker the cluster stops; false when its channel is full or gone.</summary>
    public bool TellClusterStopping() => Send(ControlMessage.ClusterStopping);

    /// <summary>Gives a spare slot <paramref name="workerId"/>; false when its channel is full or gone (it stays a spare).</summary>
    public bool Promote(int workerId)
    {
        if (!Send([(byte)ControlMessage.Promote, .. System.Text.Encoding.ASCII.GetBytes(workerId.ToString(System.Globalization.CultureInfo.InvariantCulture))]))
        {
            return false;
        }
        WorkerId = workerId;
        return true;
    }

    /// <summary>One message to the worker, never blocking the loop; false when its channel is full or gone.</summary>
    private bool Send(ControlMessage message) => Send([(byte)message]);

    private bool Send(byte[] message)
    {
        try
        {
            return channel.Send(message) == message.Length;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>The loop has handled one of its messages: room for the next.</summary>
    public void Handled() => _queued.Reader.TryRead(out _);

    public void CloseChannel() => channel.Dispose();
}
