using Fugue.Hosting.Master.Supervision;

namespace Fugue.Hosting.Master.Spawning;

/// <summary>Why a worker starts: that decides whether it warms up before it accepts, and at which priority it starts.</summary>
internal enum WorkerStart
{
    /// <summary>
    /// Its capacity is needed now (first start, or no other worker serves), or no client waits for it (the workers that
    /// serve have been idle, <see cref="RequestActivity"/>): no warm-up, the serving priority.
    /// </summary>
    Cold,

    /// <summary>It replaces a worker that still serves (rolling restart, a new master's takeover): warm-up, the replacements' lower priority.</summary>
    Replacing,

    /// <summary>
    /// It replaces a worker that died while others serve requests: warm-up, so that its first clients do not wait for its JIT,
    /// at the serving priority, since the cluster is short of a worker.
    /// </summary>
    Resuscitating,

    /// <summary>
    /// A spare (Fugue:SpareWorkers): warm-up, the replacements' lower priority, and no accepting from the shared
    /// sockets until the master gives it a slot; it serves at once then, at the serving priority.
    /// </summary>
    Spare,
}
