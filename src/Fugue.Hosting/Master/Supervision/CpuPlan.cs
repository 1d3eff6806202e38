using Fugue.Hosting.Native;

namespace Fugue.Hosting.Master.Supervision;

/// <summary>
/// Shares out the CPUs the master may run on among the workers (Fugue:CpuAffinity), as nginx's
/// <c>worker_cpu_affinity auto</c> does: with at least as many workers as CPUs, worker i gets CPU i mod n; with
/// fewer, each worker gets its own contiguous block. A pinned worker keeps its caches warm and its siblings never
/// queue on one core while another idles.
/// </summary>
internal sealed class CpuPlan(IReadOnlyList<int> allowed)
{
    public static CpuPlan OfThisProcess() => new(CpuMask.OfCallingThread().Cpus);

    public string Allowed => CpuMask.Of(allowed).ToString();

    /// <summary>The CPUs of worker <paramref name="workerId"/> (1-based) when there are <paramref name="workers"/>.</summary>
    public CpuMask For(int workerId, int workers)
    {
        // A worker can become ready above the target (WINCH or TTOU while it warmed up): it is retired, but pinned as
        // if the target counted it.
        workers = Math.Max(workers, workerId);
        int n = allowed.Count;
        int k = workerId - 1;
        return workers >= n
            ? CpuMask.Of([allowed[k % n]])
            : CpuMask.Of(allowed.Take((k + 1) * n / workers).Skip(k * n / workers));
    }
}
