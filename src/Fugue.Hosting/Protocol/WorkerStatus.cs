namespace Fugue.Hosting.Protocol;

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
