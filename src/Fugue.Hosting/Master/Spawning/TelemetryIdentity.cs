namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// What tells one worker's telemetry from another's: the OpenTelemetry SDK reads <c>OTEL_RESOURCE_ATTRIBUTES</c> from
/// the environment, so each worker gets <c>service.instance.id</c> (host, master pid, worker id) and
/// <c>fugue.worker.id</c> there, unless the app's environment already names them. A spare is named before it has a
/// slot, and keeps its names when it takes one: <c>fugue.worker.id=0</c> and its own instance id.
/// </summary>
internal static class TelemetryIdentity
{
    public const string VariableName = "OTEL_RESOURCE_ATTRIBUTES";

    /// <summary>
    /// The variable's value for worker <paramref name="workerId"/> of master <paramref name="masterPid"/>;
    /// <paramref name="instance"/> ends its instance id (default: the worker id).
    /// </summary>
    public static string ResourceAttributes(string? existing, string host, int masterPid, int workerId, string? instance = null)
    {
        var attributes = (existing ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        bool Has(string key) => attributes.Any(a => a.StartsWith(key + "=", StringComparison.Ordinal));
        if (!Has("service.instance.id"))
        {
            attributes.Add($"service.instance.id={Uri.EscapeDataString(host)}-{masterPid}-{instance ?? workerId.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
        if (!Has("fugue.worker.id"))
        {
            attributes.Add($"fugue.worker.id={workerId}");
        }
        return string.Join(',', attributes);
    }
}
