namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Where the cluster is, as <c>fugue status</c> and the state table of docs/supervisor.md name it. The supervisor
/// derives it in one place (<c>Supervisor.Phase</c>) from what it holds: a stop under way, a new master being started,
/// a rolling restart's queue, and whether every slot has served once.
/// </summary>
internal enum ClusterPhase
{
    /// <summary>Not every slot has had a ready worker yet.</summary>
    Starting,

    /// <summary>Every slot has served; workers may die and be restarted, or be recycled, meanwhile.</summary>
    Serving,

    /// <summary>A HUP's rolling restart is under way.</summary>
    Rolling,

    /// <summary>A USR2's new master is starting.</summary>
    Reexecuting,

    /// <summary>The children are draining (TERM, a handover, a crash loop); the master exits when they are gone.</summary>
    Stopping,
}
