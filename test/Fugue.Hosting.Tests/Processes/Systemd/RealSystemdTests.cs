using System.Diagnostics;
using Xunit.Abstractions;

namespace Fugue.Hosting.Tests.Processes.Systemd;

/// <summary>
/// The sample units (samples/systemd) under a real systemd as PID 1: systemd-nspawn boots the host's own /usr with an
/// empty /etc (no image to download), a private network, and the units, HelloWeb's build and <c>probe.sh</c> bound
/// in. The probe drives the units as an operator would and writes what it saw; this test reads it. Alone: with the
/// other tests' processes on the same cores, a master's loop could miss the short watchdog it is given here.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class RealSystemdTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [SystemdFact]
    public void The_sample_units_activate_reload_reexec_pet_restart_and_stop_under_systemd_as_pid_1()
    {
        string root = Directory.CreateTempSubdirectory("fugue-systemd-").FullName;
        try
        {
            var facts = Boot(root);
            string journal = File.Exists(Path.Combine(root, "srv", "out", "journal")) ? File.ReadAllText(Path.Combine(root, "srv", "out", "journal")) : "";
            output.WriteLine(string.Join('\n', facts.Select(f => $"{f.Key} {f.Value}")));
            output.WriteLine(journal);

            Assert.Equal("systemd", facts.GetValueOrDefault("pid1"));
            Assert.Equal("active", facts.GetValueOrDefault("socket"));
            Assert.StartsWith("Hello_from_worker_", facts.GetValueOrDefault("first"), StringComparison.Ordinal); // socket activation
            Assert.Equal("active", facts.GetValueOrDefault("active")); // Type=notify: READY=1 came
            Assert.Equal("2_workers_ready,_generation_1", facts.GetValueOrDefault("status"));
            Assert.Equal("0", facts.GetValueOrDefault("reload_rc")); // ExecReload waited for the roll
            Assert.StartsWith("Hello_from_worker_", facts.GetValueOrDefault("after_reload"), StringComparison.Ordinal);

            // USR2: the new master is the unit's main process once the old one is gone (NotifyAccess=main, PIDFile=) ...
            string m1 = facts.GetValueOrDefault("mainpid", ""), m2 = facts.GetValueOrDefault("usr2_mainpid", "");
            Assert.Matches("^[0-9]+$", m2);
            Assert.NotEqual(m1, m2);
            Assert.StartsWith("Hello_from_worker_", facts.GetValueOrDefault("after_usr2"), StringComparison.Ordinal);
            // ... its watchdog pets reach systemd ...
            Assert.Equal($"active_{m2}_0", facts.GetValueOrDefault("watchdog"));
            // ... a stop lets it drain its workers (a main process that is not systemd's child gets SIGKILL at once) ...
            Assert.Equal("0", facts.GetValueOrDefault("stop_rc"));
            Assert.Equal("inactive_success", facts.GetValueOrDefault("stopped"));
            Assert.Equal("0", facts.GetValueOrDefault("left"));
            // ... and systemd sees it die: a crash after another USR2 restarts the unit.
            Assert.Equal("yes", facts.GetValueOrDefault("usr2_again"));
            Assert.Equal("active_1", facts.GetValueOrDefault("after_crash"));
            Assert.StartsWith("Hello_from_worker_", facts.GetValueOrDefault("crash_serves"), StringComparison.Ordinal);
            Assert.Equal("inactive_success", facts.GetValueOrDefault("last_stop"));
            Assert.Equal("0", facts.GetValueOrDefault("last_left"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Lays out the container's files under <paramref name="root"/>, boots it until the probe powers it off, and returns the facts.</summary>
    private Dictionary<string, string> Boot(string root)
    {
        string here = Path.Combine(Apps.RepoRoot, "test", "Fugue.Hosting.Tests", "Processes", "Systemd");
        string samples = Path.Combine(Apps.RepoRoot, "samples", "systemd");
        string units = Directory.CreateDirectory(Path.Combine(root, "units")).FullName;
        string srv = Directory.CreateDirectory(Path.Combine(root, "srv")).FullName;
        Directory.CreateDirectory(Path.Combine(srv, "helloweb", "releases", "1"));
        Directory.CreateDirectory(Path.Combine(srv, "out"));
        File.CreateSymbolicLink(Path.Combine(srv, "helloweb", "current"), "releases/1");
        File.Copy(Path.Combine(samples, "helloweb.service"), Path.Combine(units, "helloweb.service"));
        File.Copy(Path.Combine(samples, "helloweb.socket"), Path.Combine(units, "helloweb.socket"));
        File.Copy(Path.Combine(here, "helloweb-probe.conf"), Path.Combine(Directory.CreateDirectory(Path.Combine(units, "helloweb.service.d")).FullName, "probe.conf"));
        File.Copy(Path.Combine(here, "fugue-probe.service"), Path.Combine(units, "fugue-probe.service"));
        File.CreateSymbolicLink(Path.Combine(Directory.CreateDirectory(Path.Combine(units, "multi-user.target.wants")).FullName, "fugue-probe.service"), "../fugue-probe.service");
        File.Copy(Path.Combine(here, "probe.sh"), Path.Combine(srv, "probe.sh"));
        File.SetUnixFileMode(Path.Combine(srv, "probe.sh"), (UnixFileMode)0x1ED); // 0755
        // The sample's user, and a machine id: with one, the boot is not a first boot (no wizard, no presets enabling the
        // host's services).
        File.WriteAllText(Path.Combine(root, "passwd"), File.ReadAllText("/etc/passwd") + "helloweb:x:990:990::/nonexistent:/usr/sbin/nologin\n");
        File.WriteAllText(Path.Combine(root, "group"), File.ReadAllText("/etc/group") + "helloweb:x:990:\n");
        File.WriteAllText(Path.Combine(root, "machine-id"), Guid.NewGuid().ToString("N") + "\n");

        var info = new ProcessStartInfo(SystemdFactAttribute.Nspawn)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--directory=/", "--volatile=yes", "--register=no", "--keep-unit", "--private-network", "--quiet",
            $"--machine=fugue-{Environment.ProcessId}",
            $"--bind={units}:/etc/systemd/system", $"--bind-ro={root}/passwd:/etc/passwd", $"--bind-ro={root}/group:/etc/group",
            $"--bind-ro={root}/machine-id:/etc/machine-id", $"--bind={srv}:/srv",
            $"--bind-ro={Apps.OutputDirectory("HelloWeb")}:/srv/helloweb/releases/1",
            "--boot", "systemd.firstboot=off",
        })
        {
            info.ArgumentList.Add(argument);
        }
        // The unified cgroup hierarchy whatever the host mounts, and no cgroup namespace: what boots on a hybrid host too.
        info.Environment["SYSTEMD_NSPAWN_UNIFIED_HIERARCHY"] = "1";
        info.Environment["SYSTEMD_NSPAWN_USE_CGNS"] = "0";
        using var nspawn = Process.Start(info)!;
        var console = nspawn.StandardOutput.ReadToEndAsync();
        var errors = nspawn.StandardError.ReadToEndAsync();
        var stopwatch = Stopwatch.StartNew();
        if (!nspawn.WaitForExit(Deadline))
        {
            nspawn.Kill(entireProcessTree: true);
            nspawn.WaitForExit();
        }
        output.WriteLine($"container ran {stopwatch.Elapsed.TotalSeconds:0.0}s, exit {nspawn.ExitCode}; stderr: {errors.Result}");
        output.WriteLine(console.Result);
        string result = Path.Combine(srv, "out", "result");
        return File.Exists(result)
            ? File.ReadLines(result).Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "")
            : [];
    }
}
