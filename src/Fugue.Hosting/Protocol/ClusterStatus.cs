namespace Fugue.Hosting.Protocol;

/// <summary>The cluster as <c>fugue status --json</c> prints it: a documented shape (see the README), versioned.</summary>
/// <param name="Version">The shape's version: fields are only added within one.</param>
/// <param name="Master">The master.</param>
/// <param name="Workers">One entry per worker process: the slots' serving workers and their replacements, in slot order.</param>
/// <param name="Requests">The cluster's requests; null when they are not counted.</param>
internal sealed record ClusterStatus(int Version, MasterStatus Master, IReadOnlyList<WorkerStatus> Workers, RequestsStatus? Requests = null)
{
    public const int CurrentVersion = 2;
}
