using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Metrics;

/// <summary>
/// An OpenTelemetry metrics exporter that prints each point as one line the tests read:
/// <c>TESTAPP otel pid 123 fugue.workers fugue.worker.state=ready 2</c> (a histogram prints its count).
/// </summary>
internal sealed class LineExporter : BaseExporter<Metric>
{
    public override ExportResult Export(in Batch<Metric> batch)
    {
        foreach (var metric in batch)
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new List<string>();
                foreach (var tag in point.Tags)
                {
                    tags.Add($"{tag.Key}={tag.Value}");
                }
                object value = metric.MetricType switch
                {
                    var t when t.IsHistogram() => point.GetHistogramCount(),
                    var t when t.IsSum() && t.IsLong() => point.GetSumLong(),
                    var t when t.IsSum() => point.GetSumDouble(),
                    var t when t.IsLong() => point.GetGaugeLastValueLong(),
                    _ => point.GetGaugeLastValueDouble(),
                };
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"TESTAPP otel pid {Environment.ProcessId} {metric.Name} {string.Join(',', tags)} {value}"));
            }
        }
        return ExportResult.Success;
    }
}
