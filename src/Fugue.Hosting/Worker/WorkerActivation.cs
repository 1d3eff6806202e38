using Fugue.Hosting.Native;
using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Worker;

/// <summary>
/// The one step that makes this process a worker, taken once, first thing in <c>UseFugue</c>: the identity leaves
/// the environment (processes the app starts never think they are workers), the worker takes on its user and groups
/// (<see cref="WorkerUser"/> has normally done so before Main; when it could not, it happens here), and the
/// inherited descriptors become close-on-exec (a process the app starts must not get the master's sockets).
/// </summary>
internal static class WorkerActivation
{
    private static readonly Lock s_lock = new();
    private static bool s_done;

    /// <summary>The identity once activated; null before, and in a process that is not a worker.</summary>
    public static WorkerIdentity? Identity { get; private set; }

    /// <summary>This process's identity if the master started it (activated, or still in the environment); no side effect.</summary>
    public static WorkerIdentity? Current =>
        Identity ?? (Environment.GetEnvironmentVariable(WorkerIdentity.VariableName) is { } value ? WorkerIdentity.Parse(value) : null);

    /// <summary>Activates this process as a worker if the master started it; the identity, or null. Idempotent.</summary>
    public static WorkerIdentity? Activate()
    {
        lock (s_lock)
        {
            if (s_done)
            {
                return Identity;
            }
            s_done = true;
            if (Posix.TakeEnvironmentVariable(WorkerIdentity.VariableName) is not { } value)
            {
                return null;
            }
            var identity = WorkerIdentity.Parse(value);
            if (identity.RunAs is { } runAs)
            {
                runAs.Apply(); // no-op when done before Main (WorkerUser)
            }
            Posix.SetCloseOnExec(identity.ControlFd);
            foreach (var listener in identity.Listeners)
            {
                Posix.SetCloseOnExec(listener.Fd);
            }
            if (identity.Connections is { } connections)
            {
                Posix.SetCloseOnExec(connections.Fd);
            }
            return Identity = identity;
        }
    }
}
