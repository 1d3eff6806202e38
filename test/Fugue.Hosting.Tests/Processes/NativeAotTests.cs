using System.Diagnostics;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// Runs alone, after the others: it measures priorities and CPU classes, which other tests' load would blur. The sample
/// is published before, beside the other tests (<see cref="NativeAotPublishTests"/>).
/// </summary>
[CollectionDefinition("Native AOT", DisableParallelization = true)]
public sealed class NativeAotGroup;

/// <summary>
/// Both build src/Fugue.Hosting in Release into the same obj/ directory: one at a time, beside the other tests.
/// </summary>
[CollectionDefinition("Release builds")]
public sealed class ReleaseBuildsGroup;

/// <summary>Publishes samples/HelloAot while the parallel tests run, so that the serial ones find it done.</summary>
[Collection("Release builds")]
public sealed class NativeAotPublishTests
{
    [AotFact]
    public void The_AOT_sample_publishes_without_a_trim_or_AOT_warning() => Assert.True(File.Exists(NativeAotTests.Published));
}

/// <summary>The end-to-end core against samples/HelloAot published with Native AOT (once per test run).</summary>
[Collection("Native AOT")]
public sealed class NativeAotTests
{
    private static readonly Lazy<string> s_published = new(Publish);

    /// <summary>The published executable, once per test run; publishing fails the test that asks first.</summary>
    internal static string Published => s_published.Value;

    private static string Directory => Path.Combine(Apps.Directory("HelloAot"), "bin", "aot");

    private static string Publish()
    {
        var publish = Process.Start(new ProcessStartInfo("dotnet",
            ["publish", Apps.Directory("HelloAot"), "-c", "Release", "-o", Directory, "-nologo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var error = publish.StandardError.ReadToEndAsync();
        string log = publish.StandardOutput.ReadToEnd() + error.Result;
        Assert.True(publish.WaitForExit(TimeSpan.FromMinutes(5)), "dotnet publish did not finish");
        Assert.True(publish.ExitCode == 0, log);
        Assert.DoesNotContain("warning", log, StringComparison.OrdinalIgnoreCase); // no trim or AOT warning, Fugue's or the app's
        return Path.Combine(Directory, "HelloAot");
    }

    [AotFact]
    public async Task The_AOT_sample_binds_options_restarts_reloads_reexecs_and_stops_like_a_JIT_app()
    {
        string executable = s_published.Value;
        bool dropsUser = Environment.UserName == "root" && Apps.OthersCanRun("HelloAot");
        var env = new Dictionary<string, string> { ["Fugue__WorkerKillTimeout"] = "00:00:05" };
        if (dropsUser)
        {
            env["Fugue__User"] = "nobody";
        }
        using var master = MasterProcess.Start("HelloAot", env, fileName: executable, workingDirectory: Directory);

        // Bound by the configuration binding source generator: the environment's Listen, not appsettings' localhost:5000.
        string url = master.WaitForUrl();
        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        master.WaitForAllReady(2);
        if (dropsUser)
        {
            string changedBy = File.Exists("/usr/bin/setpriv") ? "setpriv, before the runtime started" : "the module initializer, before Main (Native AOT)";
            var started = master.StartedWorkers();
            Assert.Equal(2, started.Count);
            NonEmpty.All(started.Values, pid => Assert.Equal(changedBy, master.WaitForEvent(RunsAs, pid).Text("ChangedBy")));
        }
        int victim = master.StartedWorkers()[1];
        ProcessTree.Kill(victim, 9);
        master.WaitForEvent(WorkerDied, victim);
        master.WaitForEvent(WorkerReady, e => e.Int("WorkerId") == 1 && !e.About(victim));

        // The load starts after the SIGKILL, which loses whatever the killed worker held (a keep-alive client's
        // connection to it fails its next request): what must fail nothing is the HUP and the USR2.
        await using var load = new Load(new Uri(url).Port, 2, 2, answer: "Hello from worker ");

        master.Signal(1);
        master.WaitForRollDone(2);

        master.Signal(12);
        int successor = master.WaitForSuccessor();
        Assert.Equal(successor, master.WaitForTakeOver(master.Pid));
        load.WaitForMore(master, 100);
        await load.DisposeAsync();
        Assert.Empty(load.Failures);

        ProcessTree.Kill(successor, 15);
        master.WaitForEvent(Stopped, successor);
    }

    [AotFact(Root = true)]
    public void Native_AOT_replacements_without_an_idle_CPU_group_start_in_the_idle_class_and_serve_with_every_thread_back_in_the_normal_one()
    {
        string executable = s_published.Value;
        using var master = MasterProcess.Start("HelloAot", new Dictionary<string, string>
        {
            ["Fugue__ReplacementNice"] = "7",
            ["Fugue__ReplacementIdleTime"] = "00:00:02",
        }, fileName: ReadOnlyCgroups.Unshare, arguments: ReadOnlyCgroups.Arguments(executable), workingDirectory: Directory);
        master.WaitForAllReady(2);
        var planned = master.WaitForEvent(ReplacementIdlePlanned, master.Pid);
        Assert.Equal(2.0, planned.Number("IdleSeconds"));
        Assert.Contains(ReadOnlyCgroups.CpuMount, planned.Text("Reason"), StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(ReplacementIdleUnsupported));

        master.Signal(1);
        master.WaitForRollDone(2);
        var replacements = master.StartedWorkers().Values.ToList();
        foreach (int pid in replacements)
        {
            var raised = master.WaitForEvent(ChildPriorityRestored, pid);
            Assert.Equal((7, 0), (raised.Int("Started"), raised.Int("Nice")));
        }
        // Threads a worker was making as it was raised are raised on the master's next passes.
        master.WaitFor(() => replacements.All(pid => ProcessTree.OfEveryThread(pid, ProcessTree.Policy) is { Count: > 0 } policies && policies.All(p => p == 0)
            && ProcessTree.OfEveryThread(pid, ProcessTree.Nice).All(n => n == 0)) ? (bool?)true : null, "every thread of the replacements at SCHED_OTHER, nice 0");
    }
}

/// <summary>A test that publishes with Native AOT, which needs clang; skipped, saying so, without it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AotFactAttribute : FactAttribute
{
    /// <summary>The test needs root too (to give a worker its priority back).</summary>
    public bool Root { get; set; }

    /// <summary>Read when the test runs, after <see cref="Root"/> is set.</summary>
    public override string? Skip
    {
        get => base.Skip ?? (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "clang")))
            ? "needs clang for the Native AOT publish (Debian package clang; .ci/run installs it)"
            : Root && Environment.UserName != "root" ? "needs root" : null);
        set => base.Skip = value;
    }
}
