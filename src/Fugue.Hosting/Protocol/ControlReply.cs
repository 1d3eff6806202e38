namespace Fugue.Hosting.Protocol;

/// <summary>
/// The master's answer to one control request, as one line of JSON: whether it did what was asked, a sentence saying
/// what happened (or why not), and for <c>status</c> the cluster's state.
/// </summary>
internal sealed record ControlReply(bool Ok, string Message, ClusterStatus? Status = null)
{
    public static ControlReply Done(string message) => new(true, message);

    public static ControlReply Failed(string message) => new(false, message);
}

/// <summary>The cluster as <c>fugue status --json</c> prints it: a documented shape (see the README), versioned.</summary>
/// <param name="Version">The shape's version: fields are only added within one.</param>
/// <param name="Master">The master.</param>
/// <param name="Workers">One entry per worker process: the slots' serving workers and their replacements, in slot order.</param>
/// <param name="Requests">The cluster's requests; null when they are not counted.</param>
internal sealed record ClusterStatus(int Version, MasterStatus Master, IReadOnlyList<WorkerStatus> Workers, RequestsStatus? Requests = null)
{
    public const int CurrentVersion = 2;
}

/// <param name="Total">Requests completed since the first master of this lineage started (they stay across recycles, HUP and USR2).</param>
/// <param name="ByStatusClass">The completed requests by status class: <c>1xx</c> to <c>5xx</c>, and <c>other</c>.</param>
/// <param name="InFlight">Requests being served now.</param>
/// <param name="LastMinute">Requests completed over the last minute (or since the first look, if less).</param>
/// <param name="P50Seconds">The median duration over that minute: the upper bound of its histogram bucket; <c>"Infinity"</c> past 10 s.</param>
/// <param name="P99Seconds">The 99th percentile, likewise.</param>
/// <param name="BusyRatio">Requests in flight on average over that minute, per worker.</param>
/// <param name="AcceptQueues">Connections waiting in each listening TCP socket's accept queue, by URL.</param>
internal sealed record RequestsStatus(long Total, IReadOnlyDictionary<string, long> ByStatusClass, long InFlight, long LastMinute, double? P50Seconds,
    double? P99Seconds, double? BusyRatio, IReadOnlyDictionary<string, int> AcceptQueues);

/// <param name="Pid">The master's pid.</param>
/// <param name="Generation">The configuration generation (1 at start, one more for each HUP the master accepted).</param>
/// <param name="UptimeSeconds">Since the master started.</param>
/// <param name="State"><c>starting</c>, <c>serving</c>, <c>rolling</c>, <c>re-executing</c> or <c>stopping</c>.</param>
/// <param name="Workers">The worker count the master converges on.</param>
/// <param name="NewMasterPid">The new master of a re-exec under way, or the one this master handed over to.</param>
internal sealed record MasterStatus(int Pid, int Generation, double UptimeSeconds, string State, int Workers, int? NewMasterPid);

/// <param name="Id">The worker id (its slot); 0 for a spare.</param>
/// <param name="Pid">Its pid.</param>
/// <param name="Generation">The generation it was started in.</param>
/// <param name="State"><c>starting</c>, <c>ready</c>, <c>spare</c> (ready to take a slot) or <c>stopping</c>.</param>
/// <param name="UptimeSeconds">Since it was started.</param>
/// <param name="Restarts">How often this slot's worker exited unasked (crash, hang, boot timeout) since the master started.</param>
/// <param name="LastExit">How the slot's last worker that exited unasked ended, e.g. <c>signal 9 (SIGKILL)</c>, or why it was last recycled, e.g. <c>recycled (memory)</c>.</param>
/// <param name="Connections">Its open connections (null without connection balance).</param>
/// <param name="RssBytes">Its resident memory.</param>
/// <param name="CpuSeconds">The CPU time it has used, user and system.</param>
/// <param name="Requests">The requests it completed since it started to serve (null when not counted).</param>
/// <param name="InFlight">The requests it serves now.</param>
/// <param name="P50Seconds">The median duration of its requests since it started (the bucket's upper bound).</param>
/// <param name="P99Seconds">Their 99th percentile.</param>
internal sealed record WorkerStatus(int Id, int Pid, int Generation, string State, double UptimeSeconds, int Restarts, string? LastExit,
    int? Connections, long? RssBytes, double? CpuSeconds, long? Requests = null, long? InFlight = null, double? P50Seconds = null, double? P99Seconds = null);
