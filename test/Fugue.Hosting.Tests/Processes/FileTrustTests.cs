using Fugue.Hosting.Master.Trust;
using static Fugue.Hosting.Tests.MasterEvents;

namespace Fugue.Hosting.Tests.Processes;

/// <summary>
/// A root master loads only what root alone can change (OpenSSH's StrictModes): ownership of the file and of every
/// directory above it, through every link, not its mode bits.
/// </summary>
public sealed class FileTrustTests
{
    private const uint Nobody = 65534;

    [RootFact]
    public void A_root_file_in_root_directories_below_a_sticky_tmp_is_trusted_and_tmp_itself_is_not()
    {
        using var tree = new TempTree();
        string file = tree.File("app/App.dll");

        Assert.Null(FileTrust.Check(file));
        Assert.Null(FileTrust.CheckTree(tree.Root));
        var tmp = FileTrust.Check("/tmp");
        Assert.Equal(("/tmp", "is writable by others than root"), (tmp?.Path, tmp?.Why));
    }

    [RootFact]
    public void A_read_only_file_another_user_owns_is_untrusted_whatever_its_mode()
    {
        using var tree = new TempTree();
        string file = tree.File("app/App.dll");
        Ownership.Set(file, Nobody);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var untrusted = FileTrust.Check(file);

        Assert.Equal((file, Nobody, "0444"), (untrusted?.Path, untrusted?.Owner, untrusted?.Permissions));
    }

    [RootFact]
    public void A_directory_above_the_file_that_another_user_owns_or_a_group_can_write_is_named()
    {
        using var tree = new TempTree();
        string file = tree.File("app/lib/App.dll");
        string lib = Path.GetDirectoryName(file)!;
        Ownership.Set(lib, Nobody);
        Assert.Equal(lib, FileTrust.Check(file)?.Path);

        Ownership.Set(lib, 0);
        string app = Path.GetDirectoryName(lib)!;
        File.SetUnixFileMode(app, (UnixFileMode)0x1FD); // 0775
        Assert.Equal((app, "0775"), (FileTrust.Check(file)?.Path, FileTrust.Check(file)?.Permissions));
    }

    [RootFact]
    public void A_link_is_followed_one_step_at_a_time_and_its_target_and_its_own_directory_are_judged()
    {
        using var tree = new TempTree();
        string target = tree.File("theirs/App.dll");
        Ownership.Set(Path.GetDirectoryName(target)!, Nobody);
        string current = Path.Combine(tree.Root, "current");
        File.CreateSymbolicLink(current, "theirs");
        Assert.Equal(Path.GetDirectoryName(target), FileTrust.Check(Path.Combine(current, "App.dll"))?.Path);

        // A link root made, in a directory another user owns: they can point it anywhere.
        string ours = tree.File("ours/App.dll");
        string planted = Path.Combine(tree.Root, "theirs", "release");
        File.CreateSymbolicLink(planted, Path.GetDirectoryName(ours)!);
        Assert.Equal(Path.GetDirectoryName(target), FileTrust.Check(Path.Combine(planted, "App.dll"))?.Path);
        Assert.Null(FileTrust.Check(ours));
    }

    [RootFact]
    public void A_tree_is_judged_to_its_deepest_file_and_a_sticky_directory_inside_it_is_untrusted()
    {
        using var tree = new TempTree();
        string deep = tree.File("app/runtimes/linux-x64/native/libApp.so");
        Assert.Null(FileTrust.CheckTree(Path.Combine(tree.Root, "app")));

        Ownership.Set(deep, Nobody);
        Assert.Equal(deep, FileTrust.CheckTree(Path.Combine(tree.Root, "app"))?.Path);

        Ownership.Set(deep, 0);
        string drop = Path.Combine(tree.Root, "app", "drop");
        Directory.CreateDirectory(drop);
        File.SetUnixFileMode(drop, (UnixFileMode)0x3FF); // 1777: anyone may add an assembly the app probes for
        Assert.Equal(drop, FileTrust.CheckTree(Path.Combine(tree.Root, "app"))?.Path);
    }

    [RootFact]
    public void A_link_loop_is_untrusted_rather_than_followed_forever()
    {
        using var tree = new TempTree();
        File.CreateSymbolicLink(Path.Combine(tree.Root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(tree.Root, "b"), "a");

        Assert.Equal("is a symbolic link that cannot be followed", FileTrust.Check(Path.Combine(tree.Root, "a", "App.dll"))?.Why);
    }

    [RootFact(AsOtherUser = true)]
    public void A_root_master_refuses_an_app_its_workers_user_owns_even_read_only()
    {
        // The finding: `chown -R www-data app; chmod -R a-w app` passed the old mode check, and the owner may chmod at will.
        using var tree = new TempTree();
        string app = tree.CopyOfTestApp();
        Ownership.SetTree(app, Nobody);
        foreach (string entry in Directory.GetFileSystemEntries(app, "*", SearchOption.AllDirectories).Append(app))
        {
            File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite));
        }

        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "nobody" },
            fileName: Path.Combine(app, "Fugue.Hosting.TestApp"), workingDirectory: app);

        Assert.True(master.WaitForExit());
        Assert.Equal(1, master.ExitCode);
        Assert.Contains($"(owner uid {Nobody}, mode 0", master.Output, StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(WorkerStarted));
    }

    [RootFact(AsOtherUser = true)]
    public async Task A_usr2_is_refused_when_a_file_of_the_new_master_is_not_roots_and_the_old_master_serves_on()
    {
        using var tree = new TempTree();
        string app = tree.CopyOfTestApp();
        using var master = MasterProcess.Start("TestApp", new Dictionary<string, string> { ["Fugue__User"] = "nobody" },
            fileName: Path.Combine(app, "Fugue.Hosting.TestApp"), workingDirectory: app);
        string url = master.WaitForUrl();
        master.WaitForAllReady(2);
        string hook = Path.Combine(app, "Fugue.Hosting.dll");
        Ownership.Set(hook, Nobody);

        master.Signal(12);

        Assert.Contains(hook, master.WaitForEvent(ReexecFailed).Text("Reason"), StringComparison.Ordinal);
        Assert.Equal(0, master.CountEvents(ReexecStarted));
        Assert.Equal(2, (await Http.DistinctAnswersAsync(url, 2)).Count);
    }

    /// <summary>A root-owned directory below /tmp, removed with everything in it.</summary>
    private sealed class TempTree : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("fugue-trust-").FullName;

        public TempTree() => System.IO.File.SetUnixFileMode(Root, (UnixFileMode)0x1ED); // 0755: the workers' user reaches the app

        public string File(string relative)
        {
            string path = Path.Combine(Root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            System.IO.File.WriteAllText(path, "");
            return path;
        }

        public string CopyOfTestApp()
        {
            string from = Apps.OutputDirectory("TestApp"), to = Path.Combine(Root, "app");
            foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            {
                Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
            }
            foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                System.IO.File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
            }
            return to;
        }

        public void Dispose()
        {
            Ownership.SetTree(Root, 0);
            foreach (string entry in Directory.GetFileSystemEntries(Root, "*", SearchOption.AllDirectories))
            {
                if (!System.IO.File.GetAttributes(entry).HasFlag(FileAttributes.ReparsePoint))
                {
                    System.IO.File.SetUnixFileMode(entry, (UnixFileMode)0x1ED);
                }
            }
            Directory.Delete(Root, recursive: true);
        }
    }
}
