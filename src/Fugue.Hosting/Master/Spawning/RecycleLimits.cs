namespace Fugue.Hosting.Master.Spawning;

/// <summary>
/// When a worker is recycled, drawn once by the master as it launches the worker, jitter included, so that workers
/// started together do not all go at once: <paramref name="MaxRequests"/> (Fugue:MaxRequests plus a share of
/// MaxRequestsJitter; 0: never), which the worker counts to, and <paramref name="Lifetime"/> (Fugue:MaxLifetime plus a
/// share of MaxLifetimeJitter; zero: never), which the master watches.
/// </summary>
internal sealed record RecycleLimits(long MaxRequests, TimeSpan Lifetime)
{
    public static readonly RecycleLimits None = new(0, TimeSpan.Zero);

    public static RecycleLimits Draw(FugueOptions options, Random random) => new(
        options.MaxRequests > 0 ? options.MaxRequests + random.NextInt64(options.MaxRequestsJitter + 1L) : 0,
        options.MaxLifetime > TimeSpan.Zero ? options.MaxLifetime + TimeSpan.FromTicks(random.NextInt64(options.MaxLifetimeJitter.Ticks + 1)) : TimeSpan.Zero);
}
