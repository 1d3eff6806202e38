namespace Fugue.Hosting.Protocol;

/// <param name="Total">Requests completed since the first master of this lineage started (they stay across recycles, HUP and USR2).</param>
/// <param name="ByStatusClass">The completed requests by status class: <c>1xx</c> to <c>5xx</c>, and <c>other</c>.</param>
/// <param name="InFlight">Requests being served now.</param>
/// <param name="LastMinute">Requests completed over the last minute (or since the first look in the last minute, if less).</param>
/// <param name="P50Seconds">The median duration over that minute: the upper bound of its histogram bucket; <c>"Infinity"</c> past 10 s.</param>
/// <param name="P99Seconds">The 99th percentile, likewise.</param>
/// <param name="BusyRatio">Requests in flight on average over that minute, per worker.</param>
/// <param name="AcceptQueues">Connections waiting in each listening TCP socket's accept queue, by URL.</param>
internal sealed record RequestsStatus(long Total, IReadOnlyDictionary<string, long> ByStatusClass, long InFlight, long LastMinute, double? P50Seconds,
    double? P99Seconds, double? BusyRatio, IReadOnlyDictionary<string, int> AcceptQueues);
