namespace Fugue.Hosting.Native;

/// <summary>
/// A set of CPUs as sched_setaffinity takes it (glibc's cpu_set_t, 1024 bits). Affinity belongs to a thread, and a
/// new thread starts with the mask of the thread that created it.
/// </summary>
internal sealed unsafe class CpuMask
{
    private const int Words = 16;
    private readonly ulong[] _bits = new ulong[Words];

    private CpuMask()
    {
    }

    public static CpuMask Of(IEnumerable<int> cpus)
    {
        var mask = new CpuMask();
        foreach (int cpu in cpus)
        {
            mask._bits[cpu / 64] |= 1UL << (cpu % 64);
        }
        return mask;
    }

    public static CpuMask OfCallingThread() => OfThread(0) ?? throw Posix.Error("sched_getaffinity", Posix.LastError);

    public IReadOnlyList<int> Cpus => Enumerable.Range(0, Words * 64).Where(cpu => (_bits[cpu / 64] & (1UL << (cpu % 64))) != 0).ToList();

    /// <summary>Moves every thread of process <paramref name="pid"/> onto these CPUs; returns how many threads it moved.</summary>
    public int ApplyToProcess(int pid) => ProcessThreads.ForEach(pid, tid => OfThread(tid) is not { } now || now._bits.AsSpan().SequenceEqual(_bits), tid =>
    {
        fixed (ulong* bits = _bits)
        {
            return Libc.sched_setaffinity(tid, Words * sizeof(ulong), bits);
        }
    }, "sched_setaffinity");

    /// <summary>The CPUs of thread <paramref name="tid"/> (0: the calling one); null when it is gone.</summary>
    private static CpuMask? OfThread(int tid)
    {
        var mask = new CpuMask();
        fixed (ulong* bits = mask._bits)
        {
            return Libc.sched_getaffinity(tid, Words * sizeof(ulong), bits) == 0 ? mask : null;
        }
    }

    /// <summary>The list form of /proc/*/status and taskset: 0-3,6.</summary>
    public override string ToString()
    {
        var ranges = new List<string>();
        var cpus = Cpus;
        for (int i = 0; i < cpus.Count;)
        {
            int j = i;
            while (j + 1 < cpus.Count && cpus[j + 1] == cpus[j] + 1)
            {
                j++;
            }
            ranges.Add(i == j ? $"{cpus[i]}" : $"{cpus[i]}-{cpus[j]}");
            i = j + 1;
        }
        return string.Join(',', ranges);
    }
}
