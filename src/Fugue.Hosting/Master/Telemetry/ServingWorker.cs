using Fugue.Hosting.Protocol;

namespace Fugue.Hosting.Master.Telemetry;

/// <summary>A serving worker as the metrics read it, from their own thread: its open connections and its request counts (null: not counted).</summary>
internal sealed record ServingWorker(int WorkerId, Func<int?> Connections, Func<RequestCounts?> Requests);
