using System.Globalization;

/// <summary>How busy the machine's CPUs were between two readings of /proc/stat (the load tools included).</summary>
internal readonly record struct CpuBusy(long Busy, long Total)
{
    public static CpuBusy Now()
    {
        // cpu  user nice system idle iowait irq softirq steal ...: idle and iowait are the idle time.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        long total = fields.Sum();
        return new CpuBusy(total - fields[3] - fields[4], total);
    }

    /// <summary>The busy share of CPU time since <paramref name="before"/>, in percent.</summary>
    public double PercentSince(CpuBusy before) => Total == before.Total ? 0 : 100.0 * (Busy - before.Busy) / (Total - before.Total);
}
