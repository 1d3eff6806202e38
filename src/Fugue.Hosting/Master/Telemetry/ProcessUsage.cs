using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>
/// A child's open connections (null without connection balance), resident memory, CPU time and the requests it
/// served (null when not counted).
/// </summary>
internal readonly record struct ProcessUsage(int? Connections, long? RssBytes, double? CpuSeconds, RequestCounts? Requests = null);
