using System.Net.Sockets;
using FugueHosting.Native;
using FugueHosting.Worker;
using Microsoft.Extensions.Hosting;

namespace FugueHosting.Master;

/// <summary>Starts a worker for a slot: this program again, with the listeners and its end of a control channel.</summary>
internal sealed class WorkerLauncher(ListenerSet listeners, AppCommandLine command, string? workingDirectory, string? controlSocketPath)
{
    private readonly int _masterPid = Environment.ProcessId;

    public WorkerProcess Launch(int workerId, MasterInbox inbox)
    {
        var (master, worker) = Posix.SeqPacketPair();
        try
        {
            // In the worker: fd 3 is the control channel, 4.. the listeners in order.
            var fds = new List<int> { worker };
            var inherited = new List<InheritedListener>();
            foreach (var listener in listeners.Bound)
            {
                inherited.Add(new InheritedListener(3 + fds.Count, listener.Https));
                fds.Add(listener.Fd);
            }
            var identity = new WorkerIdentity(workerId, _masterPid, 3, inherited, controlSocketPath);
            var env = AppCommandLine.WorkerEnvironment(new KeyValuePair<string, string>(WorkerIdentity.VariableName, identity.Serialize()));
            int pid = Spawner.Spawn(command.Executable, command.Arguments, env, fds, workingDirectory);
            var channel = new Socket(new SafeSocketHandle(master, ownsHandle: true));
            var process = new WorkerProcess(workerId, pid, channel);
            _ = process.ReadAsync(inbox);
            return process;
        }
        catch
        {
            Posix.Close(master);
            throw;
        }
        finally
        {
            Posix.Close(worker);
        }
    }
}
