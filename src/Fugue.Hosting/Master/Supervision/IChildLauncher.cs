using Fugue.Hosting.Master.Spawning;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>Starts children with the settings of one configuration.</summary>
internal interface IChildLauncher
{
    /// <summary>
    /// Starts worker <paramref name="workerId"/>, warmed up and at the priority <paramref name="start"/> says.
    /// <paramref name="heapLimit"/>: its GC heap limit in bytes (<see cref="WorkerMemory"/>), or null to leave the
    /// runtime's own.
    /// </summary>
    ChildProcess LaunchWorker(int workerId, int generation, WorkerStart start, long? heapLimit);

    /// <summary>Starts a new master (USR2) with the listeners, a channel to this one and the pid-file lock.</summary>
    ChildProcess LaunchSuccessor(int? lockFd);
}
