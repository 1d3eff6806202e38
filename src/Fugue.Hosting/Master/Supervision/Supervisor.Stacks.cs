using Fugue.Hosting.Master.Control;
using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Forensics: a worker's managed stacks, written by its own runtime (<see cref="StackCapture"/>) when it is found hung
/// (a request past Fugue:RequestTimeout: while that request still runs; silent for WorkerTimeout: before the SIGKILL,
/// which waits for it) and on <c>fugue stacks N</c>. Captures run beside the loop; each is followed up here when done.
/// </summary>
internal sealed partial class Supervisor
{
    private readonly List<Capture> _captures = [];

    /// <summary>A request of the worker ran past its Fugue:RequestTimeout: it leaves its slot now, and its stacks are written.</summary>
    private void OnRequestTimedOut(ChildProcess worker)
    {
        var slot = _cluster.SlotOf(worker)!;
        MasterLog.RequestTimedOut(logger, slot.Id, worker.Pid, worker.Settings.RequestTimeout.TotalSeconds);
        metrics?.Restarted("request_timeout");
        slot.LastExit = "request timeout";
        worker.Hung = true;
        // Out of its slot at once: a ready spare, or a new worker, takes it in this same pass (StartDueWorkers).
        _cluster.Retire(worker);
        StartCapture(worker, "request-timeout", reply: null, killAfter: false);
    }

    /// <summary>A ready worker fell silent for its WorkerTimeout: its stacks first, then SIGKILL (when they are written or failed).</summary>
    private void CaptureThenKill(ChildProcess worker)
    {
        worker.Hung = true;
        worker.Heard(); // one capture; the reap restarts the slot
        if (!StartCapture(worker, "hung", reply: null, killAfter: true))
        {
            system.Signal(worker, Posix.SIGKILL);
        }
    }

    /// <summary><c>fugue stacks N</c>: the stacks of slot N's serving worker, answered with the file when written.</summary>
    private void CaptureStacks(int workerId, IControlReply reply)
    {
        if (_cluster.Slots.FirstOrDefault(s => s.Id == workerId)?.Current is not { Ready: true, Stopping: false } worker)
        {
            reply.Complete(ControlReply.Failed($"no worker {workerId} serves (fugue status lists them)"));
            return;
        }
        StartCapture(worker, "on-request", reply, killAfter: false);
    }

    /// <summary>Starts writing a worker's stacks unless a capture of it is under way; false then.</summary>
    private bool StartCapture(ChildProcess worker, string why, IControlReply? reply, bool killAfter)
    {
        if (_captures.Any(c => c.Worker == worker))
        {
            reply?.Complete(ControlReply.Failed($"the stacks of worker {worker.WorkerId} (pid {worker.Pid}) are being written already"));
            return false;
        }
        _captures.Add(new Capture(worker, system.CaptureStacks(worker, why), reply, killAfter));
        return true;
    }

    /// <summary>Follows up the captures that are done: the file in the log (and the reply), and a hung worker's kill.</summary>
    private void FinishCaptures()
    {
        foreach (var capture in _captures.Where(c => c.Task.IsCompleted).ToList())
        {
            _captures.Remove(capture);
            var (worker, task, reply, killAfter) = capture;
            if (task.IsCompletedSuccessfully)
            {
                MasterLog.StacksWritten(logger, worker.WorkerId, worker.Pid, task.Result);
                reply?.Complete(ControlReply.Done(task.Result));
            }
            else
            {
                string why = task.Exception?.InnerException?.Message ?? "cancelled";
                MasterLog.StacksNotWritten(logger, worker.WorkerId, worker.Pid, why);
                reply?.Complete(ControlReply.Failed($"the stacks of worker {worker.WorkerId} (pid {worker.Pid}) were not written: {why}"));
            }
            if (killAfter)
            {
                system.Signal(worker, Posix.SIGKILL);
            }
        }
    }

    private sealed record Capture(ChildProcess Worker, Task<string> Task, IControlReply? Reply, bool KillAfter);
}
