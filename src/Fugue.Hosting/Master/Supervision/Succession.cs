using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Master.Platform;
using Fugue.Hosting.Protocol;
using Microsoft.Extensions.Logging;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// A USR2's new master: while it starts, the clients waiting for its outcome and the pid file moved aside for it
/// (<c>app.pid.oldbin</c>, as Unicorn's); once it serves, its pid (this master then drains, and leaves the socket
/// files and the pid file to it). The supervisor decides when; this object keeps the state and the files consistent.
/// </summary>
internal sealed class Succession(PidFile? pidFile, ILogger logger)
{
    private readonly List<IControlReply> _waiters = [];

    /// <summary>The new master while it starts; null otherwise.</summary>
    public ChildProcess? Starting { get; private set; }

    /// <summary>The pid of the new master this one handed over to; null before.</summary>
    public int? HandedOverTo { get; private set; }

    /// <summary>The new master's pid, starting or serving, for <c>fugue status</c>.</summary>
    public int? SuccessorPid => Starting?.Pid ?? HandedOverTo;

    /// <summary>
    /// Moves the pid file aside and starts the new master, which takes the pid file's lock; when it cannot be started,
    /// the pid file is put back and the exception goes to the caller.
    /// </summary>
    public ChildProcess Begin(Func<int?, ChildProcess> launch)
    {
        try
        {
            if (pidFile is not null && File.Exists(pidFile.Path))
            {
                pidFile.MoveToOldBin();
            }
            return Starting = launch(pidFile?.LockFd);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RestorePidFile();
            throw;
        }
    }

    /// <summary>Answers <paramref name="reply"/> when the new master serves or is rolled back.</summary>
    public void Await(IControlReply reply) => _waiters.Add(reply);

    /// <summary>The new master serves: it owns the files now.</summary>
    public void HandOver(ControlReply answer)
    {
        HandedOverTo = Starting!.Pid;
        Starting = null;
        Answer(answer);
    }

    /// <summary>The new master died or was late: the pid file is this master's again.</summary>
    public void RollBack(ControlReply answer)
    {
        Stopped();
        Answer(answer);
    }

    /// <summary>The new master was stopped with this one (whose stop has answered the waiters): the pid file is this master's again.</summary>
    public void Stopped()
    {
        Starting = null;
        RestorePidFile();
    }

    /// <summary>Answers every client waiting for the outcome.</summary>
    public void Answer(ControlReply answer)
    {
        foreach (var waiter in _waiters)
        {
            waiter.Complete(answer);
        }
        _waiters.Clear();
    }

    private void RestorePidFile()
    {
        try
        {
            if (pidFile is not null && File.Exists(pidFile.OldBinPath))
            {
                pidFile.RestoreFromOldBin();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MasterLog.PidFileFailed(logger, pidFile!.Path, e.Message);
        }
    }
}
