using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <param name="Total">Everything served, across recycles and masters, and in flight now.</param>
/// <param name="Recent">What was served over the <see cref="RequestWindow"/>.</param>
/// <param name="BusyRatio">Requests in flight on average over the window, per worker; null at first.</param>
/// <param name="AcceptQueues">Each listening TCP socket's connections not yet accepted.</param>
internal sealed record TrafficStatus(RequestCounts Total, RequestCounts Recent, double? BusyRatio, IReadOnlyList<(string Url, int Queued)> AcceptQueues);
