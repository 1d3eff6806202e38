namespace Fugue.Hosting.Master.Supervision;

internal static class Timestamps
{
    /// <summary>The timestamp (<see cref="TimeProvider.GetTimestamp"/>) <paramref name="delay"/> from now.</summary>
    public static long After(this TimeProvider time, TimeSpan delay) => time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
}
