using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests;

/// <summary>Workers drop privileges; the master keeps its own and lets only its own user (or root) talk to it.</summary>
public sealed class PrivilegeTests
{
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
        }
        Assert.Contains("Uid:\t0\t0\t0\t0", File.ReadAllLines($"/proc/{master.Pid}/status"));
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

    [RootFact("/usr/bin/setpriv", AsOtherUser = true)]
    public void Changing_user_without_root_is_a_clear_error()
    {
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "root", ["Fugue__TempPath"] = "/tmp" },
            fileName: "/usr/bin/setpriv", arguments: $"--reuid=65534 --regid=65534 --clear-groups \"{Apps.Executable("TestApp")}\"");

        Assert.True(master.WaitForExit());
        Assert.Equal(1, master.ExitCode);
        Assert.Contains("Fugue:User = 'root': changing user or group needs root (the master runs as uid 65534).", master.Output, StringComparison.Ordinal);
    }

    [RootFact("/usr/bin/python3")]
    public void The_control_socket_refuses_another_user_even_when_its_mode_would_allow_it()
    {
        using var master = MasterProcess.Start("TestApp");
        master.WaitForAllReady(2);
        string path = master.WaitForEvent(ControlSocket).Text("Path");
        File.SetUnixFileMode(master.TempPath, (UnixFileMode)0x1ED); // 0755: let the other user reach the socket
        File.SetUnixFileMode(Path.GetDirectoryName(path)!, (UnixFileMode)0x1ED);
        File.SetUnixFileMode(path, (UnixFileMode)0x1B6); // 0666: a mistake the peer check still catches

        using var client = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
             $"import socket; s = socket.socket(socket.AF_UNIX); s.connect('{path}'); print('got[' + s.recv(4096).decode() + ']')"])
        { RedirectStandardOutput = true })!;
        string got = client.StandardOutput.ReadToEnd();
        Assert.True(client.WaitForExit(MasterProcess.Deadline));

        Assert.Equal("got[]\n", got);
        master.WaitForEvent(ControlRefused, e => e.Int("Uid") == 65534);
    }
}
