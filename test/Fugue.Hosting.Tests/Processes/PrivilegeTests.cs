using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>Workers drop privileges; the master keeps its own and lets only its own user (or root) talk to it.</summary>
public sealed class PrivilegeTests
{
    [RootFact]
    public void Group_without_User_in_a_root_master_is_refused_rather_than_leave_the_workers_root()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Fugue.Hosting.Native.Credentials.Resolve(null, "65534"));

        Assert.Equal("Fugue:Group = '65534': without Fugue:User the workers keep uid 0 (root); set Fugue:User too.", refused.Message);
        Assert.Equal((65534u, 65534u), Fugue.Hosting.Native.Credentials.Resolve("65534", "65534") is { } both ? (both.Uid, both.Gid) : default);
    }

    [RootFact(AsOtherUser = true)]
    public async Task Workers_run_as_User_with_its_groups_and_the_master_stays_root()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "nobody" });
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        foreach (int pid in master.StartedWorkers().Values)
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            Assert.Contains("Uid:\t65534\t65534\t65534\t65534", status);
            Assert.Contains("Gid:\t65534\t65534\t65534\t65534", status);
            Assert.Contains("Groups:\t65534 ", status);
            Assert.Contains("NoNewPrivs:\t1", status); // a set-user-id program it runs gains nothing
            var runsAs = master.WaitForEvent(RunsAs, pid);
            Assert.Equal((65534, "setpriv, before the runtime started"), (runsAs.Int("Uid"), runsAs.Text("ChangedBy")));
            Assert.StartsWith("w", File.ReadAllText($"/proc/{pid}/comm"), StringComparison.Ordinal);
        }
        Assert.Contains("Uid:\t0\t0\t0\t0", File.ReadAllLines($"/proc/{master.Pid}/status"));
        Assert.Contains("NoNewPrivs:\t0", File.ReadAllLines($"/proc/{master.Pid}/status"));
        string childEnv = await Http.GetAsync(url + "/child-env");
        Assert.DoesNotContain("DOTNET_STARTUP_HOOKS", childEnv, StringComparison.Ordinal); // nothing of it reaches the app's children
        // The worker's environment is its user's, not root's (HOME is where DataProtection and user secrets look).
        string[] nobody = File.ReadAllLines("/etc/passwd").First(l => l.StartsWith("nobody:", StringComparison.Ordinal)).Split(':');
        var env = childEnv.Split('\n');
        Assert.Contains($"HOME={nobody[5]}", env);
        Assert.Contains("USER=nobody", env);
        Assert.Contains("LOGNAME=nobody", env);
        Assert.Contains($"SHELL={nobody[6]}", env);
    }

    [RootFact(ReadOnlyCgroups.Unshare, AsOtherUser = true)]
    public async Task Without_a_setpriv_root_may_run_a_worker_takes_on_its_user_in_the_startup_hook()
    {
        // As in a minimal image: here /dev/null stands where setpriv was (anyone may write it, so root must not run it).
        string executable = Apps.Executable("TestApp");
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "nobody" },
            fileName: ReadOnlyCgroups.Unshare, arguments: $"-m --propagation private /bin/sh -c \"mount --bind /dev/null /usr/bin/setpriv && exec '{executable}'\"");
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);

        foreach (int pid in master.StartedWorkers().Values)
        {
            Assert.Contains("Uid:\t65534\t65534\t65534\t65534", File.ReadAllLines($"/proc/{pid}/status"));
            Assert.Equal("the startup hook, before Main", master.WaitForEvent(RunsAs, pid).Text("ChangedBy"));
            Assert.StartsWith("w", File.ReadAllText($"/proc/{pid}/comm"), StringComparison.Ordinal); // named for ps, as a worker of the master's user is
        }
        Assert.DoesNotContain("DOTNET_STARTUP_HOOKS", await Http.GetAsync(url + "/child-env"), StringComparison.Ordinal);
    }

    [RootFact(AsOtherUser = true)]
    public async Task A_root_master_refuses_app_files_the_workers_user_can_write_at_start_and_on_a_hup()
    {
        var directory = Directory.CreateTempSubdirectory("fugue-app-files-");
        directory.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        string settings = Path.Combine(directory.FullName, "appsettings.json");
        File.WriteAllText(settings, "{}");
        var env = new Dictionary<string, string> { ["Fugue__User"] = "nobody" };
        try
        {
            Ownership.Set(settings, 65534);
            using (var refused = MasterProcess.Start("TestApp", env, workingDirectory: directory.FullName))
            {
                Assert.True(refused.WaitForExit());
                Assert.Equal(1, refused.ExitCode);
                Assert.Contains(settings, refused.Output, StringComparison.Ordinal);
                Assert.Equal(0, refused.CountEvents(WorkerStarted));
            }

            Ownership.Set(settings, 0);
            using var master = MasterProcess.Start("TestApp", env, workingDirectory: directory.FullName);
            string url = master.WaitForUrl();
            master.WaitForAllReady(2);
            Ownership.Set(settings, 65534);
            master.Signal(1);

            Assert.Contains(settings, master.WaitForEvent(ReloadRefused).Text("Reason"), StringComparison.Ordinal);
            Assert.Equal(2, (await Http.DistinctAnswersAsync(url, 2)).Count); // generation 1 serves on
            Assert.Equal(0, master.CountEvents(RollStarted));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [RootFact("/usr/bin/setpriv", AsOtherUser = true)]
    public void Changing_user_without_root_is_a_clear_error()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "root", ["Fugue__TempPath"] = "/tmp" },
            fileName: "/usr/bin/setpriv", arguments: $"--reuid=65534 --regid=65534 --clear-groups \"{Apps.Executable("TestApp")}\"");

        Assert.True(master.WaitForExit());
        Assert.Equal(1, master.ExitCode);
        Assert.Contains("Fugue:User = 'root': changing user or group needs root (the master runs as uid 65534).", master.Output, StringComparison.Ordinal);
    }

    [RootFact("/usr/bin/setpriv", AsOtherUser = true)]
    public void The_control_socket_refuses_another_user_even_when_its_mode_would_allow_it()
    {
        string dir = Directory.CreateTempSubdirectory("fugue-test-control-").FullName;
        try
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755: let the other user reach the socket
            string path = Path.Combine(dir, "app.sock");
            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__ControlSocket"] = path });
            master.WaitForAllReady(2);
            File.SetUnixFileMode(path, (UnixFileMode)0x1B6); // 0666: a mistake the peer check still catches

            var (code, _, error) = master.Fugue("stop", asUid: 65534);

            Assert.Equal(1, code);
            Assert.Contains("closed the connection without an answer", error, StringComparison.Ordinal);
            master.WaitForEvent(ControlRefused, e => e.Int("Uid") == 65534);
            Assert.Equal(0, master.CountEvents(Stopping));
            Assert.Equal(0, master.Fugue("status").ExitCode); // its own user is answered
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void A_control_directory_another_user_made_first_is_refused_not_used()
    {
        // A shared /tmp where another user made the directory the master's socket goes in: it could watch or replace it.
        string temp = Directory.CreateTempSubdirectory("fugue-test-squat-").FullName;
        try
        {
            string squatted = Path.Combine(temp, "fugue-0");
            Fugue.Hosting.Native.Posix.PrepareDirectory(squatted, new Fugue.Hosting.Native.Credentials(65534, 65534, [65534]));

            using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__TempPath"] = temp });

            Assert.True(master.WaitForExit());
            Assert.Equal(1, master.ExitCode);
            Assert.Contains($"{squatted} belongs to uid 65534, not to this user", master.Output, StringComparison.Ordinal);
            Assert.Equal(0, master.CountEvents(WorkerStarted));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
