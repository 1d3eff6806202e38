namespace FugueHosting.Master;

/// <summary>
/// What tells one worker's telemetry from another's: the OpenTelemetry SDK reads <c>OTEL_RESOURCE_ATTRIBUTES</c> from
/// the environment, so each worker gets <c>service.instance.id</c> (host, master pid, worker id) and
/// <c>fugue.worker.id</c> there, unless the app's environment already names them.
/// </summary>
internal static class TelemetryIdentity
{
    public const string VariableName = "OTEL_RESOURCE_ATTRIBUTES";

    /// <summary>The variable's value for worker <paramref name="workerId"/> of master <paramref name="masterPid"/>.</summary>
    public static string ResourceAttributes(string? existing, string host, int masterPid, int workerId)
    {
        var attributes = (existing ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        bool Has(string key) => attributes.Any(a => a.StartsWith(key + "=", StringComparison.Ordinal));
        if (!Has("service.instance.id"))
        {
            attributes.Add($"service.instance.id={Uri.EscapeDataString(host)}-{masterPid}-{workerId}");
        }
        if (!Has("fugue.worker.id"))
        {
            attributes.Add($"fugue.worker.id={workerId}");
        }
        return string.Join(',', attributes);
    }
}
